/// Tests that talk to RabbitMQ hold the lock shared; tests that disrupt the broker (close every
/// connection, restart it) hold it exclusively, so they never break a test running beside them.
actor BrokerLock {
    static let shared = BrokerLock()

    private var readers = 0
    private var writer = false
    private var waiting: [(exclusive: Bool, continuation: CheckedContinuation<Void, Never>)] = []

    /// Runs `body` beside other shared holders.
    static func shared<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        try await Self.holding(exclusive: false, body)
    }

    /// Runs `body` alone.
    static func exclusive<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        try await Self.holding(exclusive: true, body)
    }

    private static func holding<Result: Sendable>(
        exclusive: Bool,
        _ body: () async throws -> Result
    ) async throws -> Result {
        await Self.shared.acquire(exclusive: exclusive)
        do {
            let result = try await body()
            await Self.shared.release(exclusive: exclusive)
            return result
        } catch {
            await Self.shared.release(exclusive: exclusive)
            throw error
        }
    }

    private func acquire(exclusive: Bool) async {
        if self.waiting.isEmpty, !self.writer, !exclusive || self.readers == 0 {
            if exclusive { self.writer = true } else { self.readers += 1 }
            return
        }
        await withCheckedContinuation { continuation in
            self.waiting.append((exclusive, continuation))
        }
    }

    private func release(exclusive: Bool) {
        if exclusive { self.writer = false } else { self.readers -= 1 }
        while let next = self.waiting.first {
            if next.exclusive {
                guard self.readers == 0, !self.writer else { return }
                self.writer = true
            } else {
                guard !self.writer else { return }
                self.readers += 1
            }
            self.waiting.removeFirst()
            next.continuation.resume()
        }
    }
}
