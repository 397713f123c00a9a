import Foundation

/// A handler for one pattern: decodes `data` as its payload type and does the work, one message at
/// a time or a batch at a time.
public struct MessageHandler: Sendable {
    enum Body: Sendable {
        case single(@Sendable (Data, MessageContext) async throws -> HandlerOutcome)
        case batch(@Sendable ([(body: Data, context: MessageContext)], BatchSettler) async -> Void)
    }

    let pattern: String
    let body: Body

    /// Registers `body` for `pattern`, decoding `data` as `Payload`. `messageType` names the message
    /// in metrics (COMPAT.md section 6: the notification `type`, the email type, ...); the pattern by default.
    public init<Payload: Decodable & Sendable>(
        pattern: String,
        payload: Payload.Type,
        messageType: @escaping @Sendable (Payload) -> String = { _ in "" },
        body: @escaping @Sendable (Payload, MessageContext) async throws -> Void
    ) {
        self.pattern = pattern
        self.body = .single { data, context in
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

    /// Registers a batch handler for `pattern`: `body` gets every message of a batch whose `data`
    /// decoded as `Payload` and settles each one through the ``MessageBatch`` (success: acked;
    /// failure: retried or dead-lettered, as a single handler's error). Messages whose `data` does
    /// not decode never reach it (dead-lettered with the reason); a message `body` leaves unsettled
    /// is treated as a transient failure.
    public init<Payload: Decodable & Sendable>(
        pattern: String,
        payload: Payload.Type,
        messageType: @escaping @Sendable (Payload) -> String = { _ in "" },
        batch body: @escaping @Sendable (MessageBatch<Payload>) async -> Void
    ) {
        self.pattern = pattern
        self.body = .batch { messages, settler in
            var items: [MessageBatch<Payload>.Item] = []
            var positions: [Int] = []
            var types: [String] = []
            for (position, message) in messages.enumerated() {
                do {
                    let payload = try NestEnvelope.decodeData(Payload.self, from: message.body)
                    let type = messageType(payload)
                    items.append(.init(payload: payload, context: message.context))
                    positions.append(position)
                    types.append(type.isEmpty ? pattern : type)
                } catch {
                    await settler.settle(position, .failure(error))
                }
            }
            guard !items.isEmpty else { return }
            await body(MessageBatch(items: items, positions: positions, messageTypes: types, settler: settler))
        }
    }
}

/// The messages of one batch, in delivery order, and the way to settle each one.
public struct MessageBatch<Payload: Sendable>: Sendable {
    /// One message of the batch.
    public struct Item: Sendable {
        public var payload: Payload
        public var context: MessageContext
    }

    /// The messages, oldest first; settle them by their index here.
    public let items: [Item]
    let positions: [Int]
    let messageTypes: [String]
    let settler: BatchSettler

    /// The work of `indices` is durable: acknowledge them.
    public func succeed(_ indices: some Sequence<Int>) async {
        for index in indices where self.items.indices.contains(index) {
            await self.settler.settle(
                self.positions[index], .success(HandlerOutcome(messageType: self.messageTypes[index])))
        }
    }

    /// The message at `index` failed with `error` (a ``MessageHandlingError`` says whether it is
    /// permanent): retried or dead-lettered alone.
    public func fail(_ index: Int, _ error: any Error) async {
        guard self.items.indices.contains(index) else { return }
        await self.settler.settle(
            self.positions[index],
            .failure(HandlerFailure(messageType: self.messageTypes[index], underlying: error)))
    }
}

/// Settles the deliveries of a batch by position, each at most once (the consumer's side).
struct BatchSettler: Sendable {
    let handle: @Sendable (Int, Result<HandlerOutcome, any Error>) async -> Void

    func settle(_ position: Int, _ result: Result<HandlerOutcome, any Error>) async {
        await self.handle(position, result)
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
