import NIOCore

extension AMQPMethod {
    /// Class `basic` (60): publishing, consuming, acknowledgements.
    public enum Basic: Sendable, Hashable {
        /// Limits unacknowledged deliveries to `prefetchCount` (0 = no limit); RabbitMQ applies it per consumer,
        /// or per channel when `global`.
        case qos(prefetchSize: UInt32, prefetchCount: UInt16, global: Bool)
        /// The broker applied the `qos` limits.
        case qosOk
        /// Starts a consumer on a queue.
        case consume(Consume)
        /// The consumer started, under `consumerTag`.
        case consumeOk(consumerTag: String)
        /// Stops a consumer; the broker also sends it when the queue goes away (RabbitMQ extension).
        case cancel(consumerTag: String, noWait: Bool)
        /// The consumer stopped.
        case cancelOk(consumerTag: String)
        /// Publishes a message; a content header and body frames follow.
        case publish(Publish)
        /// An undeliverable `mandatory` message coming back; its content follows.
        case `return`(Return)
        /// A message pushed to a consumer; its content follows.
        case deliver(Deliver)
        /// Fetches one message from a queue (polling).
        case get(queue: String, noAck: Bool)
        /// The message `get` fetched; its content follows.
        case getOk(GetOk)
        /// `get` found the queue empty.
        case getEmpty
        /// Acknowledges a delivery, or with `multiple` every delivery up to `deliveryTag`; from the broker,
        /// a publisher confirm.
        case ack(deliveryTag: UInt64, multiple: Bool)
        /// Refuses one delivery, requeueing it or dropping (dead-lettering) it.
        case reject(deliveryTag: UInt64, requeue: Bool)
        /// Deprecated asynchronous form of `recover`.
        case recoverAsync(requeue: Bool)
        /// Asks the broker to redeliver every unacknowledged message of the channel.
        case recover(requeue: Bool)
        /// The broker accepted `recover`.
        case recoverOk
        /// Refuses one or (`multiple`) several deliveries (RabbitMQ extension); from the broker, a publish it lost.
        case nack(deliveryTag: UInt64, multiple: Bool, requeue: Bool)

        /// The arguments of `basic.consume`: start a consumer on a queue.
        public struct Consume: Sendable, Hashable {
            /// The queue to consume from.
            public var queue: String
            /// Empty asks the broker to choose a tag.
            public var consumerTag: String
            /// Do not deliver messages published on this connection (RabbitMQ ignores it).
            public var noLocal: Bool
            /// Deliveries count as acknowledged when sent (auto-ack); `false` means the consumer acks each one.
            public var noAck: Bool
            /// Ask to be the queue's only consumer; the broker refuses when another consumer exists.
            public var exclusive: Bool
            /// Ask the broker not to send `consume-ok`.
            public var noWait: Bool
            /// Extension arguments, e.g. `x-priority` or `x-stream-offset`.
            public var arguments: AMQPFieldTable

            /// Creates consume arguments; by default the broker names the tag and each delivery needs an ack.
            public init(
                queue: String,
                consumerTag: String = "",
                noLocal: Bool = false,
                noAck: Bool = false,
                exclusive: Bool = false,
                noWait: Bool = false,
                arguments: AMQPFieldTable = [:]
            ) {
                self.queue = queue
                self.consumerTag = consumerTag
                self.noLocal = noLocal
                self.noAck = noAck
                self.exclusive = exclusive
                self.noWait = noWait
                self.arguments = arguments
            }
        }

        /// The arguments of `basic.publish`; the content header and body follow it.
        public struct Publish: Sendable, Hashable {
            /// The exchange to publish to; empty is the default exchange, which routes by queue name.
            public var exchange: String
            /// The routing key the exchange matches against its bindings.
            public var routingKey: String
            /// Ask the broker to return the message (`basic.return`) when no queue takes it.
            public var mandatory: Bool
            /// Removed from RabbitMQ in 3.0, which refuses a publish that sets it with a `not-implemented` error.
            public var immediate: Bool

            /// Creates publish arguments; `mandatory` and `immediate` default to `false`.
            public init(exchange: String, routingKey: String, mandatory: Bool = false, immediate: Bool = false) {
                self.exchange = exchange
                self.routingKey = routingKey
                self.mandatory = mandatory
                self.immediate = immediate
            }
        }

        /// The arguments of `basic.return`: a `mandatory` message no queue took, sent back with its content.
        public struct Return: Sendable, Hashable {
            /// Why the message came back, e.g. 312 (no route).
            public var replyCode: UInt16
            /// The broker's text for `replyCode`.
            public var replyText: String
            /// The exchange the message was published to.
            public var exchange: String
            /// The routing key it was published with.
            public var routingKey: String

            /// Creates return arguments.
            public init(replyCode: UInt16, replyText: String, exchange: String, routingKey: String) {
                self.replyCode = replyCode
                self.replyText = replyText
                self.exchange = exchange
                self.routingKey = routingKey
            }
        }

        /// The arguments of `basic.deliver`: a message pushed to a consumer; its content follows.
        public struct Deliver: Sendable, Hashable {
            /// The consumer the message is for.
            public var consumerTag: String
            /// The channel-scoped number to acknowledge, reject or nack the message with.
            public var deliveryTag: UInt64
            /// Whether the message was delivered before and not acknowledged.
            public var redelivered: Bool
            /// The exchange the message was published to.
            public var exchange: String
            /// The routing key it was published with.
            public var routingKey: String

            /// Creates deliver arguments.
            public init(
                consumerTag: String, deliveryTag: UInt64, redelivered: Bool, exchange: String, routingKey: String
            ) {
                self.consumerTag = consumerTag
                self.deliveryTag = deliveryTag
                self.redelivered = redelivered
                self.exchange = exchange
                self.routingKey = routingKey
            }
        }

        /// The arguments of `basic.get-ok`: one message fetched by `basic.get`; its content follows.
        public struct GetOk: Sendable, Hashable {
            /// The channel-scoped number to acknowledge the message with.
            public var deliveryTag: UInt64
            /// Whether the message was delivered before and not acknowledged.
            public var redelivered: Bool
            /// The exchange the message was published to.
            public var exchange: String
            /// The routing key it was published with.
            public var routingKey: String
            /// How many messages are left in the queue.
            public var messageCount: UInt32

            /// Creates get-ok arguments.
            public init(
                deliveryTag: UInt64, redelivered: Bool, exchange: String, routingKey: String, messageCount: UInt32
            ) {
                self.deliveryTag = deliveryTag
                self.redelivered = redelivered
                self.exchange = exchange
                self.routingKey = routingKey
                self.messageCount = messageCount
            }
        }

        var methodID: UInt16 {
            switch self {
            case .qos: 10
            case .qosOk: 11
            case .consume: 20
            case .consumeOk: 21
            case .cancel: 30
            case .cancelOk: 31
            case .publish: 40
            case .return: 50
            case .deliver: 60
            case .get: 70
            case .getOk: 71
            case .getEmpty: 72
            case .ack: 80
            case .reject: 90
            case .recoverAsync: 100
            case .recover: 110
            case .recoverOk: 111
            case .nack: 120
            }
        }

        func encodeArguments(into buffer: inout ByteBuffer) throws(AMQPProtocolError) {
            switch self {
            case .qos(let prefetchSize, let prefetchCount, let global):
                buffer.writeInteger(prefetchSize)
                buffer.writeInteger(prefetchCount)
                buffer.writeAMQPBits(global)
            case .consume(let consume):
                buffer.writeInteger(UInt16(0))
                try buffer.writeAMQPShortString(consume.queue)
                try buffer.writeAMQPShortString(consume.consumerTag)
                buffer.writeAMQPBits(consume.noLocal, consume.noAck, consume.exclusive, consume.noWait)
                try buffer.writeAMQPTable(consume.arguments)
            case .consumeOk(let consumerTag), .cancelOk(let consumerTag):
                try buffer.writeAMQPShortString(consumerTag)
            case .cancel(let consumerTag, let noWait):
                try buffer.writeAMQPShortString(consumerTag)
                buffer.writeAMQPBits(noWait)
            case .publish(let publish):
                buffer.writeInteger(UInt16(0))
                try buffer.writeAMQPShortString(publish.exchange)
                try buffer.writeAMQPShortString(publish.routingKey)
                buffer.writeAMQPBits(publish.mandatory, publish.immediate)
            case .return(let returned):
                buffer.writeInteger(returned.replyCode)
                try buffer.writeAMQPShortString(returned.replyText)
                try buffer.writeAMQPShortString(returned.exchange)
                try buffer.writeAMQPShortString(returned.routingKey)
            case .deliver(let deliver):
                try buffer.writeAMQPShortString(deliver.consumerTag)
                buffer.writeInteger(deliver.deliveryTag)
                buffer.writeAMQPBits(deliver.redelivered)
                try buffer.writeAMQPShortString(deliver.exchange)
                try buffer.writeAMQPShortString(deliver.routingKey)
            case .get(let queue, let noAck):
                buffer.writeInteger(UInt16(0))
                try buffer.writeAMQPShortString(queue)
                buffer.writeAMQPBits(noAck)
            case .getOk(let getOk):
                buffer.writeInteger(getOk.deliveryTag)
                buffer.writeAMQPBits(getOk.redelivered)
                try buffer.writeAMQPShortString(getOk.exchange)
                try buffer.writeAMQPShortString(getOk.routingKey)
                buffer.writeInteger(getOk.messageCount)
            case .getEmpty:
                try buffer.writeAMQPShortString("")
            case .ack(let deliveryTag, let multiple):
                buffer.writeInteger(deliveryTag)
                buffer.writeAMQPBits(multiple)
            case .reject(let deliveryTag, let requeue):
                buffer.writeInteger(deliveryTag)
                buffer.writeAMQPBits(requeue)
            case .recoverAsync(let requeue), .recover(let requeue):
                buffer.writeAMQPBits(requeue)
            case .nack(let deliveryTag, let multiple, let requeue):
                buffer.writeInteger(deliveryTag)
                buffer.writeAMQPBits(multiple, requeue)
            case .qosOk, .recoverOk:
                break
            }
        }

        static func decode(methodID: UInt16, from buffer: inout ByteBuffer) throws(AMQPProtocolError) -> Basic {
            switch methodID {
            case 10:
                let prefetchSize = try buffer.readAMQPLong()
                let prefetchCount = try buffer.readAMQPShort()
                return .qos(
                    prefetchSize: prefetchSize, prefetchCount: prefetchCount, global: try buffer.readAMQPBits(1)[0])
            case 11: return .qosOk
            case 20:
                _ = try buffer.readAMQPShort()
                let queue = try buffer.readAMQPShortString()
                let consumerTag = try buffer.readAMQPShortString()
                let bits = try buffer.readAMQPBits(4)
                return .consume(
                    Consume(
                        queue: queue,
                        consumerTag: consumerTag,
                        noLocal: bits[0],
                        noAck: bits[1],
                        exclusive: bits[2],
                        noWait: bits[3],
                        arguments: try buffer.readAMQPTable()
                    )
                )
            case 21: return .consumeOk(consumerTag: try buffer.readAMQPShortString())
            case 30:
                let consumerTag = try buffer.readAMQPShortString()
                return .cancel(consumerTag: consumerTag, noWait: try buffer.readAMQPBits(1)[0])
            case 31: return .cancelOk(consumerTag: try buffer.readAMQPShortString())
            case 40:
                _ = try buffer.readAMQPShort()
                let exchange = try buffer.readAMQPShortString()
                let routingKey = try buffer.readAMQPShortString()
                let bits = try buffer.readAMQPBits(2)
                return .publish(
                    Publish(exchange: exchange, routingKey: routingKey, mandatory: bits[0], immediate: bits[1]))
            case 50:
                return .return(
                    Return(
                        replyCode: try buffer.readAMQPShort(),
                        replyText: try buffer.readAMQPShortString(),
                        exchange: try buffer.readAMQPShortString(),
                        routingKey: try buffer.readAMQPShortString()
                    )
                )
            case 60:
                return .deliver(
                    Deliver(
                        consumerTag: try buffer.readAMQPShortString(),
                        deliveryTag: try buffer.readAMQPLongLong(),
                        redelivered: try buffer.readAMQPBits(1)[0],
                        exchange: try buffer.readAMQPShortString(),
                        routingKey: try buffer.readAMQPShortString()
                    )
                )
            case 70:
                _ = try buffer.readAMQPShort()
                let queue = try buffer.readAMQPShortString()
                return .get(queue: queue, noAck: try buffer.readAMQPBits(1)[0])
            case 71:
                return .getOk(
                    GetOk(
                        deliveryTag: try buffer.readAMQPLongLong(),
                        redelivered: try buffer.readAMQPBits(1)[0],
                        exchange: try buffer.readAMQPShortString(),
                        routingKey: try buffer.readAMQPShortString(),
                        messageCount: try buffer.readAMQPLong()
                    )
                )
            case 72:
                _ = try buffer.readAMQPShortString()
                return .getEmpty
            case 80:
                let deliveryTag = try buffer.readAMQPLongLong()
                return .ack(deliveryTag: deliveryTag, multiple: try buffer.readAMQPBits(1)[0])
            case 90:
                let deliveryTag = try buffer.readAMQPLongLong()
                return .reject(deliveryTag: deliveryTag, requeue: try buffer.readAMQPBits(1)[0])
            case 100: return .recoverAsync(requeue: try buffer.readAMQPBits(1)[0])
            case 110: return .recover(requeue: try buffer.readAMQPBits(1)[0])
            case 111: return .recoverOk
            case 120:
                let deliveryTag = try buffer.readAMQPLongLong()
                let bits = try buffer.readAMQPBits(2)
                return .nack(deliveryTag: deliveryTag, multiple: bits[0], requeue: bits[1])
            default: throw AMQPMethod.unknown("basic", methodID)
            }
        }
    }
}
