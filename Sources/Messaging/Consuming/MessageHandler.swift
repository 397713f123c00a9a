import Foundation

/// A handler for one pattern: decodes `data` as its payload type and does the work.
public struct MessageHandler: Sendable {
    let pattern: String
    let handle: @Sendable (Data, MessageContext) async throws -> HandlerOutcome

    /// Registers `body` for `pattern`, decoding `data` as `Payload`. `messageType` names the message
    /// in metrics (COMPAT.md section 6: the notification `type`, the email type, ...); the pattern by default.
    public init<Payload: Decodable & Sendable>(
        pattern: String,
        payload: Payload.Type,
        messageType: @escaping @Sendable (Payload) -> String = { _ in "" },
        body: @escaping @Sendable (Payload, MessageContext) async throws -> Void
    ) {
        self.pattern = pattern
        self.handle = { data, context in
            let payload = try NestEnvelope.decodeData(Payload.self, from: data)
            let type = messageType(payload)
            do {
                try await body(payload, context)
            } catch {
                throw HandlerFailure(messageType: type.isEmpty ? pattern : type, underlying: error)
            }
            return HandlerOutcome(messageType: type.isEmpty ? pattern : type)
        }
    }
}

struct HandlerOutcome: Sendable {
    var messageType: String
}

/// A handler's error with the message type already known (for metric tags).
struct HandlerFailure: Error {
    var messageType: String
    var underlying: any Error
}
