import NIOCore

extension AMQPMethod {
    /// Class `exchange` (40).
    public enum Exchange: Sendable, Hashable {
        /// Creates an exchange, or checks that it exists (`passive`).
        case declare(Declare)
        /// The exchange exists.
        case declareOk
        /// Deletes an exchange (with `ifUnused`, only when it has no bindings).
        case delete(exchange: String, ifUnused: Bool, noWait: Bool)
        /// The exchange is deleted.
        case deleteOk
        /// Binds an exchange to another exchange.
        case bind(Bind)
        /// The binding exists.
        case bindOk
        /// Removes an exchange-to-exchange binding.
        case unbind(Bind)
        /// The binding is removed.
        case unbindOk

        /// The arguments of `exchange.declare`: create an exchange, or check it exists.
        public struct Declare: Sendable, Hashable {
            /// The exchange's name.
            public var exchange: String
            /// `direct`, `fanout`, `topic`, `headers`, or a plugin type.
            public var type: String
            /// Only check that the exchange exists (the broker closes the channel with 404 when it does not).
            public var passive: Bool
            /// Whether the exchange survives a broker restart.
            public var durable: Bool
            /// Whether the broker deletes the exchange once its last binding is removed.
            public var autoDelete: Bool
            /// Whether only other exchanges may publish to it (RabbitMQ extension).
            public var `internal`: Bool
            /// Ask the broker not to send `declare-ok`.
            public var noWait: Bool
            /// Extension arguments, e.g. `alternate-exchange`.
            public var arguments: AMQPFieldTable

            /// Creates declare arguments for a transient, non-internal exchange unless told otherwise.
            public init(
                exchange: String,
                type: String,
                passive: Bool = false,
                durable: Bool = false,
                autoDelete: Bool = false,
                internal: Bool = false,
                noWait: Bool = false,
                arguments: AMQPFieldTable = [:]
            ) {
                self.exchange = exchange
                self.type = type
                self.passive = passive
                self.durable = durable
                self.autoDelete = autoDelete
                self.internal = `internal`
                self.noWait = noWait
                self.arguments = arguments
            }
        }

        /// Exchange-to-exchange binding (a RabbitMQ extension).
        public struct Bind: Sendable, Hashable {
            /// The exchange that receives the routed messages.
            public var destination: String
            /// The exchange messages are routed from.
            public var source: String
            /// The binding key matched against each message's routing key.
            public var routingKey: String
            /// Ask the broker not to send `bind-ok`.
            public var noWait: Bool
            /// Extension arguments; a `headers` exchange matches on them.
            public var arguments: AMQPFieldTable

            /// Creates exchange-to-exchange binding arguments.
            public init(
                destination: String,
                source: String,
                routingKey: String,
                noWait: Bool = false,
                arguments: AMQPFieldTable = [:]
            ) {
                self.destination = destination
                self.source = source
                self.routingKey = routingKey
                self.noWait = noWait
                self.arguments = arguments
            }
        }

        var methodID: UInt16 {
            switch self {
            case .declare: 10
            case .declareOk: 11
            case .delete: 20
            case .deleteOk: 21
            case .bind: 30
            case .bindOk: 31
            case .unbind: 40
            case .unbindOk: 51
            }
        }

        func encodeArguments(into buffer: inout ByteBuffer) throws(AMQPProtocolError) {
            switch self {
            case .declare(let declare):
                buffer.writeInteger(UInt16(0))
                try buffer.writeAMQPShortString(declare.exchange)
                try buffer.writeAMQPShortString(declare.type)
                buffer.writeAMQPBits(
                    declare.passive,
                    declare.durable,
                    declare.autoDelete,
                    declare.internal,
                    declare.noWait
                )
                try buffer.writeAMQPTable(declare.arguments)
            case .delete(let exchange, let ifUnused, let noWait):
                buffer.writeInteger(UInt16(0))
                try buffer.writeAMQPShortString(exchange)
                buffer.writeAMQPBits(ifUnused, noWait)
            case .bind(let bind), .unbind(let bind):
                buffer.writeInteger(UInt16(0))
                try buffer.writeAMQPShortString(bind.destination)
                try buffer.writeAMQPShortString(bind.source)
                try buffer.writeAMQPShortString(bind.routingKey)
                buffer.writeAMQPBits(bind.noWait)
                try buffer.writeAMQPTable(bind.arguments)
            case .declareOk, .deleteOk, .bindOk, .unbindOk:
                break
            }
        }

        static func decode(methodID: UInt16, from buffer: inout ByteBuffer) throws(AMQPProtocolError) -> Exchange {
            switch methodID {
            case 10:
                _ = try buffer.readAMQPShort()
                let exchange = try buffer.readAMQPShortString()
                let type = try buffer.readAMQPShortString()
                let bits = try buffer.readAMQPBits(5)
                return .declare(
                    Declare(
                        exchange: exchange,
                        type: type,
                        passive: bits[0],
                        durable: bits[1],
                        autoDelete: bits[2],
                        internal: bits[3],
                        noWait: bits[4],
                        arguments: try buffer.readAMQPTable()
                    )
                )
            case 11: return .declareOk
            case 20:
                _ = try buffer.readAMQPShort()
                let exchange = try buffer.readAMQPShortString()
                let bits = try buffer.readAMQPBits(2)
                return .delete(exchange: exchange, ifUnused: bits[0], noWait: bits[1])
            case 21: return .deleteOk
            case 30, 40:
                _ = try buffer.readAMQPShort()
                let destination = try buffer.readAMQPShortString()
                let source = try buffer.readAMQPShortString()
                let routingKey = try buffer.readAMQPShortString()
                let noWait = try buffer.readAMQPBits(1)[0]
                let bind = Bind(
                    destination: destination,
                    source: source,
                    routingKey: routingKey,
                    noWait: noWait,
                    arguments: try buffer.readAMQPTable()
                )
                return methodID == 30 ? .bind(bind) : .unbind(bind)
            case 31: return .bindOk
            case 51: return .unbindOk
            default: throw AMQPMethod.unknown("exchange", methodID)
            }
        }
    }
}
