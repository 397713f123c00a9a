import NIOConcurrencyHelpers

/// Lines collected from a sink that may be called from any thread.
final class LockedLines: Sendable {
    private let box = NIOLockedValueBox<[String]>([])

    func append(_ line: String) {
        self.box.withLockedValue { $0.append(line) }
    }

    var all: [String] { self.box.withLockedValue { $0 } }
}
