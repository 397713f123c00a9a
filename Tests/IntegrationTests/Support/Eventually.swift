/// Polls `condition` until it holds; fails after `timeout` (a safety net, not a speed assertion).
func eventually(
    _ what: String,
    timeout: Duration = .seconds(20),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw EventuallyTimeout(what: what)
}

struct EventuallyTimeout: Error, CustomStringConvertible {
    var what: String
    var description: String { "gave up waiting: \(self.what)" }
}

/// Values recorded by handlers running concurrently.
actor Recorder<Value: Sendable> {
    private(set) var values: [Value] = []

    func append(_ value: Value) {
        self.values.append(value)
    }

    var count: Int { self.values.count }
}
