import AMQPProtocol
import Foundation

/// What a handler knows about the message it handles, besides the payload.
public struct MessageContext: Sendable {
    /// The queue it came from.
    public var queue: String
    /// The NestJS pattern.
    public var pattern: String
    /// The publisher's `message_id`; NestJS publishers never set one.
    public var messageID: String?
    /// The broker delivered it before without an ack (a crash, a lost connection).
    public var redelivered: Bool
    /// Retries so far (0 on the first delivery).
    public var retryCount: Int
    /// SHA-256 of the body, hex. Two identical NestJS emits have the same hash, so it may only be
    /// used to match a redelivery (``redelivered``) against work already done, never to merge publishes.
    public var bodyHash: String
    /// The key to make the handler's effect idempotent: the `message_id` when present, else nil.
    public var idempotencyKey: String? { self.messageID }
    /// All message properties (headers included).
    public var properties: AMQPBasicProperties
}
