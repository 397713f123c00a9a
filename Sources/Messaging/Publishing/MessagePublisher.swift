import AMQPClient
import AMQPProtocol
import Foundation
import Metrics
import NIOCore

/// Publishes NestJS events the way a `@MessagePattern` handler consumes them, but durably:
/// persistent, `content_type: application/json`, a `message_id` and `timestamp`, mandatory (an
/// unroutable message is an error), and returned only once the broker confirmed it.
public struct MessagePublisher: Sendable {
    let client: AMQPClient

    public init(client: AMQPClient) {
        self.client = client
    }

    /// The properties of every event decode-async publishes.
    public static func properties(messageID: String, headers: AMQPFieldTable? = nil) -> AMQPBasicProperties {
        AMQPBasicProperties(
            contentType: "application/json",
            headers: headers,
            deliveryMode: 2,
            messageID: messageID,
            timestamp: UInt64(Date().timeIntervalSince1970)
        )
    }

    /// Emits `{"pattern", "data"}` to `queue` through the default exchange.
    ///
    /// - Parameter messageID: the idempotency key consumers use; a new UUID by default.
    /// - Throws: ``AMQPClientError`` (`unroutable` when `queue` does not exist, `notConnected`, ...).
    public func emit<Payload: Encodable>(
        pattern: String,
        data: Payload,
        queue: String,
        messageID: String = UUID().uuidString.lowercased()
    ) async throws {
        let body = try NestEnvelope.encodeEvent(pattern: pattern, data: data)
        try await self.publish(body: body, queue: queue, messageID: messageID, messageType: pattern)
    }

    /// Publishes an already encoded body (e.g. `decode-async emit --data @file`).
    public func publish(body: Data, queue: String, messageID: String, messageType: String) async throws {
        let dimensions = [("queue_name", queue), ("message_type", messageType)]
        do {
            try await self.client.publish(
                ByteBuffer(bytes: body),
                routingKey: queue,
                mandatory: true,
                properties: Self.properties(messageID: messageID)
            )
            Counter(label: "queue.message.published", dimensions: dimensions).increment()
        } catch {
            Counter(label: "queue.message.failed", dimensions: dimensions + [("operation", "publish")]).increment()
            throw error
        }
    }
}
