import AMQPProtocol
import NIOCore

/// A message the broker delivered to a consumer or answered to `basic.get`.
public struct AMQPDelivery: Sendable {
    /// Identifies the delivery on its channel for `ack`/`nack`/`reject`.
    public var deliveryTag: UInt64
    /// The broker delivered it before (to this or another consumer) without an ack.
    public var redelivered: Bool
    /// The exchange the message was published to; empty for the default exchange.
    public var exchange: String
    /// The routing key it was published with (the queue name on the default exchange).
    public var routingKey: String
    /// The message's content properties (content type, headers, delivery mode, ...).
    public var properties: AMQPBasicProperties
    /// The message body, all body frames joined.
    public var body: ByteBuffer
    /// The consumer it was delivered to; empty for `basic.get`.
    public var consumerTag: String

    /// Creates a delivery, e.g. to feed a handler in a test.
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
    /// Why the broker returned it, e.g. 312 NO_ROUTE.
    public var replyCode: UInt16
    /// The broker's text for `replyCode`.
    public var replyText: String
    /// The exchange the message was published to.
    public var exchange: String
    /// The routing key no binding matched.
    public var routingKey: String
    /// The message's content properties as published.
    public var properties: AMQPBasicProperties
    /// The message body as published.
    public var body: ByteBuffer
}

/// The answer to `basic.get`: a message and how many are left, or nothing.
public struct AMQPGetResult: Sendable {
    /// The fetched message; acknowledge it with its `deliveryTag` unless fetched with `noAck`.
    public var delivery: AMQPDelivery
    /// Messages left in the queue after this one.
    public var messageCount: UInt32
}
