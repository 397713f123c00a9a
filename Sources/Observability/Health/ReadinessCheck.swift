import NIOConcurrencyHelpers

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
    ///
    /// The check runs in its own task and is not awaited past the timeout: a dependency whose client
    /// blocks and ignores cancellation (a driver call on a thread pool) must not hold `/ready` longer.
    public func run() async -> ReadinessResult {
        let clock = ContinuousClock()
        let start = clock.now
        let outcome = OnceOutcome()
        let check = self.check
        let timeout = self.timeout
        let work = Task {
            do {
                try await check()
                outcome.resolve(nil)
            } catch {
                outcome.resolve(String(describing: error))
            }
        }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            outcome.resolve("no answer within \(timeout)")
        }
        let failure = await outcome.value()
        work.cancel()
        timer.cancel()
        let elapsed = clock.now - start
        let millis = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        return ReadinessResult(
            name: self.name, status: failure == nil ? "up" : "down", durationMs: millis, error: failure)
    }

    /// A check that shares one in-flight probe between concurrent `/ready` calls, so a slow
    /// dependency is asked once, not once per call.
    public static func shared(
        name: String,
        timeout: Duration = .seconds(2),
        check: @escaping @Sendable () async throws -> Void
    ) -> ReadinessCheck {
        let probe = SharedProbe(check)
        return ReadinessCheck(name: name, timeout: timeout) { try await probe.run() }
    }
}

/// The first outcome of a check or its timer; later ones are ignored.
final class OnceOutcome: Sendable {
    private enum State {
        case waiting(CheckedContinuation<String?, Never>?)
        case resolved(String?)
    }

    private let state = NIOLockedValueBox(State.waiting(nil))

    func resolve(_ failure: String?) {
        let continuation = self.state.withLockedValue { state -> CheckedContinuation<String?, Never>? in
            guard case .waiting(let continuation) = state else { return nil }
            state = .resolved(failure)
            return continuation
        }
        continuation?.resume(returning: failure)
    }

    func value() async -> String? {
        await withCheckedContinuation { continuation in
            let resolved = self.state.withLockedValue { state -> String?? in
                switch state {
                case .resolved(let failure): return .some(failure)
                case .waiting:
                    state = .waiting(continuation)
                    return nil
                }
            }
            if let resolved {
                continuation.resume(returning: resolved)
            }
        }
    }
}

/// One probe at a time; concurrent callers await the one in flight.
actor SharedProbe {
    private let check: @Sendable () async throws -> Void
    private var inFlight: Task<Void, any Error>?

    init(_ check: @escaping @Sendable () async throws -> Void) {
        self.check = check
    }

    func run() async throws {
        if let inFlight {
            return try await inFlight.value
        }
        let task = Task { try await self.check() }
        self.inFlight = task
        defer { self.inFlight = nil }
        try await task.value
    }
}
