/// Tests that talk to RabbitMQ hold the lock shared; tests that disrupt the broker (close every
/// connection, restart it) hold it exclusively, so they never break a test running beside them.
enum BrokerLock {
    static let lock = ResourceLock()

    static func shared<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        try await Self.lock.holding(exclusive: false, body)
    }

    static func exclusive<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        try await Self.lock.holding(exclusive: true, body)
    }
}

/// The same for the MongoDB server: a fail point is global, so its test runs alone.
enum MongoLock {
    static let lock = ResourceLock()

    static func shared<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        try await Self.lock.holding(exclusive: false, body)
    }

    static func exclusive<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        try await Self.lock.holding(exclusive: true, body)
    }
}

/// The same for the graph server: ArcadeDB keeps a refused database selected, so the test that
/// provokes it runs alone.
enum GraphLock {
    static let lock = ResourceLock()

    static func shared<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        try await Self.lock.holding(exclusive: false, body)
    }

    static func exclusive<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        try await Self.lock.holding(exclusive: true, body)
    }
}

/// A shared/exclusive lock over a server that tests share.
actor ResourceLock {
    private var readers = 0
    private var writer = false
    private var waiting: [(exclusive: Bool, continuation: CheckedContinuation<Void, Never>)] = []

    /// Runs `body` alone (`exclusive`) or beside other shared holders.
    nonisolated func holding<Result: Sendable>(
        exclusive: Bool,
        _ body: () async throws -> Result
    ) async throws -> Result {
        await self.acquire(exclusive: exclusive)
        do {
            let result = try await body()
            await self.release(exclusive: exclusive)
            return result
        } catch {
            await self.release(exclusive: exclusive)
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
