import AMQPProtocol
import NIOCore

/// A message the broker delivered to a consumer or answered to `basic.get`.
public struct AMQPDelivery: Sendable {
    /// Identifies the delivery on its channel for `ack`/`nack`/`reject`.
    public var deliveryTag: UInt64
    /// The broker delivered it before (to this or another consumer) without an ack.
    public var redelivered: Bool
    public var exchange: String
    public var routingKey: String
    public var properties: AMQPBasicProperties
    public var body: ByteBuffer
    /// The consumer it was delivered to; empty for `basic.get`.
    public var consumerTag: String

    public init(
        deliveryTag: UInt64,
        redelivered: Bool,
        exchange: String,
        routingKey: String,
        properties: AMQPBasicProperties,
        body: ByteBuffer,
        consumerTag: String = ""
    ) {
        self.deliveryTag = deliveryTag
        self.redelivered = redelivered
        self.exchange = exchange
        self.routingKey = routingKey
        self.properties = properties
        self.body = body
        self.consumerTag = consumerTag
    }
}

/// A mandatory message the broker could not route and sent back with `basic.return`.
public struct AMQPReturnedMessage: Sendable {
    public var replyCode: UInt16
    public var replyText: String
    public var exchange: String
    public var routingKey: String
    public var properties: AMQPBasicProperties
    public var body: ByteBuffer
}

/// The answer to `basic.get`: a message and how many are left, or nothing.
public struct AMQPGetResult: Sendable {
    public var delivery: AMQPDelivery
    /// Messages left in the queue after this one.
    public var messageCount: UInt32
}
