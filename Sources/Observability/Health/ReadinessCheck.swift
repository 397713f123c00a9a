/// One dependency a service needs before it can do its work (a broker, a database, a relay).
///
/// `/ready` runs every check of the service concurrently; a check that throws or does not return
/// within `timeout` makes the service not ready, and its error text is shown in the answer.
public struct ReadinessCheck: Sendable {
    /// The dependency's name as shown in `/ready` (`rabbitmq`, `mongodb`, ...).
    public var name: String
    /// How long the check may take before it counts as failed.
    public var timeout: Duration
    /// Returns when the dependency answers; throws otherwise.
    public var check: @Sendable () async throws -> Void

    /// Creates a check.
    public init(name: String, timeout: Duration = .seconds(2), check: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.timeout = timeout
        self.check = check
    }
}

/// Why a readiness check failed.
public struct ReadinessFailure: Error, CustomStringConvertible, Sendable {
    /// A short, log-safe reason.
    public var description: String

    /// Creates a failure with a reason.
    public init(_ description: String) {
        self.description = description
    }
}

/// The outcome of one ``ReadinessCheck``.
public struct ReadinessResult: Codable, Sendable, Equatable {
    /// The check's name.
    public var name: String
    /// `up` or `down`.
    public var status: String
    /// How long the check took, in milliseconds.
    public var durationMs: Int
    /// Why it is down; absent when up.
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case name, status, error
        case durationMs = "duration_ms"
    }
}

extension ReadinessCheck {
    /// Runs the check under its timeout and reports the outcome; never throws.
    public func run() async -> ReadinessResult {
        let clock = ContinuousClock()
        let start = clock.now
        let failure: String?
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await self.check() }
                group.addTask {
                    try await Task.sleep(for: self.timeout)
                    throw ReadinessFailure("no answer within \(self.timeout)")
                }
                defer { group.cancelAll() }
                try await group.next()
            }
            failure = nil
        } catch {
            failure = String(describing: error)
        }
        let elapsed = clock.now - start
        let millis = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        return ReadinessResult(
            name: self.name, status: failure == nil ? "up" : "down", durationMs: millis, error: failure)
    }
}
