import NIOCore

extension AMQPMethod {
    /// Class `queue` (50).
    public enum Queue: Sendable, Hashable {
        /// Creates a queue, or checks that it exists (`passive`).
        case declare(Declare)
        /// The queue's name (chosen by the broker when asked), ready messages and consumers.
        case declareOk(queue: String, messageCount: UInt32, consumerCount: UInt32)
        /// Binds a queue to an exchange with a binding key.
        case bind(Bind)
        /// The binding exists.
        case bindOk
        /// Removes every ready message from a queue.
        case purge(queue: String, noWait: Bool)
        /// How many messages the purge removed.
        case purgeOk(messageCount: UInt32)
        /// Deletes a queue (with `ifUnused`/`ifEmpty`, only when it has no consumers/messages).
        case delete(queue: String, ifUnused: Bool, ifEmpty: Bool, noWait: Bool)
        /// How many messages were deleted with the queue.
        case deleteOk(messageCount: UInt32)
        /// Removes a queue binding.
        case unbind(Bind)
        /// The binding is removed.
        case unbindOk

        /// The arguments of `queue.declare`: create a queue, or check it exists.
        public struct Declare: Sendable, Hashable {
            /// Empty asks the broker to name the queue.
            public var queue: String
            /// Only check that the queue exists (the broker closes the channel with 404 when it does not).
            public var passive: Bool
            /// Whether the queue survives a broker restart.
            public var durable: Bool
            /// Whether the queue belongs to this connection only and is deleted when it closes.
            public var exclusive: Bool
            /// Whether the broker deletes the queue once its last consumer is cancelled.
            public var autoDelete: Bool
            /// Ask the broker not to send `declare-ok`.
            public var noWait: Bool
            /// Extension arguments, e.g. `x-queue-type`, `x-message-ttl`, `x-dead-letter-exchange`.
            public var arguments: AMQPFieldTable

            /// Creates declare arguments for a transient, shared queue unless told otherwise.
            public init(
                queue: String,
                passive: Bool = false,
                durable: Bool = false,
                exclusive: Bool = false,
                autoDelete: Bool = false,
                noWait: Bool = false,
                arguments: AMQPFieldTable = [:]
            ) {
                self.queue = queue
                self.passive = passive
                self.durable = durable
                self.exclusive = exclusive
                self.autoDelete = autoDelete
                self.noWait = noWait
                self.arguments = arguments
            }
        }

        /// A queue binding; `noWait` is not on the wire for `unbind`.
        public struct Bind: Sendable, Hashable {
            /// The queue to bind.
            public var queue: String
            /// The exchange to bind it to.
            public var exchange: String
            /// The binding key matched against each message's routing key.
            public var routingKey: String
            /// Ask the broker not to send `bind-ok` (ignored for `unbind`).
            public var noWait: Bool
            /// Extension arguments; a `headers` exchange matches on them.
            public var arguments: AMQPFieldTable

            /// Creates queue binding arguments.
            public init(
                queue: String,
                exchange: String,
                routingKey: String,
                noWait: Bool = false,
                arguments: AMQPFieldTable = [:]
            ) {
                self.queue = queue
                self.exchange = exchange
                self.routingKey = routingKey
                self.noWait = noWait
                self.arguments = arguments
            }
        }

        var methodID: UInt16 {
            switch self {
            case .declare: 10
            case .declareOk: 11
            case .bind: 20
            case .bindOk: 21
            case .purge: 30
            case .purgeOk: 31
            case .delete: 40
            case .deleteOk: 41
            case .unbind: 50
            case .unbindOk: 51
            }
        }

        func encodeArguments(into buffer: inout ByteBuffer) throws(AMQPProtocolError) {
            switch self {
            case .declare(let declare):
                buffer.writeInteger(UInt16(0))
                try buffer.writeAMQPShortString(declare.queue)
                buffer.writeAMQPBits(
                    declare.passive,
                    declare.durable,
                    declare.exclusive,
                    declare.autoDelete,
                    declare.noWait
                )
                try buffer.writeAMQPTable(declare.arguments)
            case .declareOk(let queue, let messageCount, let consumerCount):
                try buffer.writeAMQPShortString(queue)
                buffer.writeInteger(messageCount)
                buffer.writeInteger(consumerCount)
            case .bind(let bind):
                buffer.writeInteger(UInt16(0))
                try buffer.writeAMQPShortString(bind.queue)
                try buffer.writeAMQPShortString(bind.exchange)
                try buffer.writeAMQPShortString(bind.routingKey)
                buffer.writeAMQPBits(bind.noWait)
                try buffer.writeAMQPTable(bind.arguments)
            case .unbind(let bind):
                buffer.writeInteger(UInt16(0))
                try buffer.writeAMQPShortString(bind.queue)
                try buffer.writeAMQPShortString(bind.exchange)
                try buffer.writeAMQPShortString(bind.routingKey)
                try buffer.writeAMQPTable(bind.arguments)
            case .purge(let queue, let noWait):
                buffer.writeInteger(UInt16(0))
                try buffer.writeAMQPShortString(queue)
                buffer.writeAMQPBits(noWait)
            case .purgeOk(let messageCount), .deleteOk(let messageCount):
                buffer.writeInteger(messageCount)
            case .delete(let queue, let ifUnused, let ifEmpty, let noWait):
                buffer.writeInteger(UInt16(0))
                try buffer.writeAMQPShortString(queue)
                buffer.writeAMQPBits(ifUnused, ifEmpty, noWait)
            case .bindOk, .unbindOk:
                break
            }
        }

        static func decode(methodID: UInt16, from buffer: inout ByteBuffer) throws(AMQPProtocolError) -> Queue {
            switch methodID {
            case 10:
                _ = try buffer.readAMQPShort()
                let queue = try buffer.readAMQPShortString()
                let bits = try buffer.readAMQPBits(5)
                return .declare(
                    Declare(
                        queue: queue,
                        passive: bits[0],
                        durable: bits[1],
                        exclusive: bits[2],
                        autoDelete: bits[3],
                        noWait: bits[4],
                        arguments: try buffer.readAMQPTable()
                    )
                )
            case 11:
                return .declareOk(
                    queue: try buffer.readAMQPShortString(),
                    messageCount: try buffer.readAMQPLong(),
                    consumerCount: try buffer.readAMQPLong()
                )
            case 20, 50:
                _ = try buffer.readAMQPShort()
                let queue = try buffer.readAMQPShortString()
                let exchange = try buffer.readAMQPShortString()
                let routingKey = try buffer.readAMQPShortString()
                let noWait = methodID == 20 ? try buffer.readAMQPBits(1)[0] : false
                let bind = Bind(
                    queue: queue,
                    exchange: exchange,
                    routingKey: routingKey,
                    noWait: noWait,
                    arguments: try buffer.readAMQPTable()
                )
                return methodID == 20 ? .bind(bind) : .unbind(bind)
            case 21: return .bindOk
            case 51: return .unbindOk
            case 30:
                _ = try buffer.readAMQPShort()
                let queue = try buffer.readAMQPShortString()
                return .purge(queue: queue, noWait: try buffer.readAMQPBits(1)[0])
            case 31: return .purgeOk(messageCount: try buffer.readAMQPLong())
            case 40:
                _ = try buffer.readAMQPShort()
                let queue = try buffer.readAMQPShortString()
                let bits = try buffer.readAMQPBits(3)
                return .delete(queue: queue, ifUnused: bits[0], ifEmpty: bits[1], noWait: bits[2])
            case 41: return .deleteOk(messageCount: try buffer.readAMQPLong())
            default: throw AMQPMethod.unknown("queue", methodID)
            }
        }
    }
}
