/// The pool's bookkeeping, kept under one lock: idle connections (most recently used last), how
/// many exist, and the senders waiting for one.
struct SMTPPoolState {
    struct Idle: Sendable {
        var connection: SMTPConnection
        var messagesSent: Int
        var since: ContinuousClock.Instant
    }

    enum Decision {
        case reuse(Idle, expired: [Idle])
        case open(expired: [Idle])
        case wait(expired: [Idle])
        case shutdown
    }

    let maxConnections: Int
    private(set) var idle: [Idle] = []
    /// Open or opening connections, leased or idle.
    private(set) var count = 0
    private var waiters: [(id: Int, continuation: CheckedContinuation<Void, any Error>)] = []
    private var waiterIDs = 0
    private(set) var isShutDown = false

    init(maxConnections: Int) {
        self.maxConnections = maxConnections
    }

    mutating func acquire(now: ContinuousClock.Instant, idleTimeout: Duration) -> Decision {
        guard !self.isShutDown else { return .shutdown }
        let expired = self.removeExpired(now: now, idleTimeout: idleTimeout)
        if let entry = self.idle.popLast() {
            return .reuse(entry, expired: expired)
        }
        if self.count < self.maxConnections {
            self.count += 1
            return .open(expired: expired)
        }
        return .wait(expired: expired)
    }

    mutating func removeExpired(now: ContinuousClock.Instant, idleTimeout: Duration) -> [Idle] {
        let expired = self.idle.filter { now - $0.since >= idleTimeout || !$0.connection.isActive }
        guard !expired.isEmpty else { return [] }
        self.idle.removeAll { now - $0.since >= idleTimeout || !$0.connection.isActive }
        self.count -= expired.count
        return expired
    }

    /// A leased connection goes back; returns false when the pool is shut down (the caller closes
    /// it), and a waiter to wake.
    mutating func returnIdle(_ entry: Idle) -> (accepted: Bool, waiter: CheckedContinuation<Void, any Error>?) {
        if self.isShutDown {
            self.count -= 1
            return (false, nil)
        }
        self.idle.append(entry)
        return (true, self.popWaiter())
    }

    /// A connection was closed or failed to open; returns a waiter to wake (it may open a new one).
    mutating func connectionClosed() -> CheckedContinuation<Void, any Error>? {
        self.count -= 1
        return self.popWaiter()
    }

    mutating func nextWaiterID() -> Int {
        self.waiterIDs += 1
        return self.waiterIDs
    }

    /// Registers a waiter; returns true when it should go on at once (a wake-up came first, or a
    /// connection became available meanwhile).
    mutating func addWaiter(id: Int, _ continuation: CheckedContinuation<Void, any Error>) -> Bool {
        if !self.idle.isEmpty || self.count < self.maxConnections || self.isShutDown {
            return true
        }
        self.waiters.append((id, continuation))
        return false
    }

    mutating func removeWaiter(id: Int) -> CheckedContinuation<Void, any Error>? {
        guard let index = self.waiters.firstIndex(where: { $0.id == id }) else { return nil }
        return self.waiters.remove(at: index).continuation
    }

    private mutating func popWaiter() -> CheckedContinuation<Void, any Error>? {
        guard !self.waiters.isEmpty else { return nil }
        return self.waiters.removeFirst().continuation
    }

    mutating func shutdown() -> ([Idle], [CheckedContinuation<Void, any Error>]) {
        self.isShutDown = true
        let idle = self.idle
        self.count -= idle.count
        self.idle = []
        let waiters = self.waiters.map(\.continuation)
        self.waiters = []
        return (idle, waiters)
    }
}
