import DequeModule
import Synchronization

/// What is ready to be handled, taken in batches: a batch is everything ready right now, up to
/// `maxSize`. No fixed wait: a lone message is a batch of one at once; under load, what arrived
/// while the previous batch was being handled forms the next one. A value type: no I/O, no waiting.
struct BatchAssembly<Element> {
    enum Next {
        /// Handle these now.
        case batch([Element])
        /// Nothing is ready: wait for ``BatchAssembly/append(_:)``.
        case wait
        /// Nothing is ready and nothing more will come.
        case end
    }

    let maxSize: Int
    private(set) var ready = Deque<Element>()
    private(set) var isFinished = false

    init(maxSize: Int) {
        self.maxSize = max(1, maxSize)
    }

    /// An element became ready (dropped once finished).
    mutating func append(_ element: Element) {
        guard !self.isFinished else { return }
        self.ready.append(element)
    }

    /// Nothing more will be appended; what is ready is still handed out.
    mutating func finish() {
        self.isFinished = true
    }

    /// The next batch: what is ready, oldest first, at most `maxSize`.
    mutating func next() -> Next {
        guard !self.ready.isEmpty else { return self.isFinished ? .end : .wait }
        let count = min(self.maxSize, self.ready.count)
        let batch = Array(self.ready.prefix(count))
        self.ready.removeFirst(count)
        return .batch(batch)
    }
}

/// Work taken in batches of what is ready: one loop calls ``next()`` and handles each batch while
/// producers ``append(_:)``. A batch is everything ready when the loop asks, up to `maxSize`; there
/// is no fixed wait, so at low rates each element goes through alone, at once.
public final class ReadyBatches<Element: Sendable>: Sendable {
    private struct State: ~Copyable {
        var assembly: BatchAssembly<Element>
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state: Mutex<State>

    /// Batches of at most `maxSize` elements.
    public init(maxSize: Int) {
        self.state = Mutex(State(assembly: BatchAssembly(maxSize: maxSize)))
    }

    /// Adds an element for the next batch (dropped after ``finish()``).
    public func append(_ element: Element) {
        let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.assembly.append(element)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Ends the batches once what is ready has been taken.
    public func finish() {
        let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.assembly.finish()
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// ``finish()`` was called (what is ready may still be taken).
    public var isFinished: Bool {
        self.state.withLock { $0.assembly.isFinished }
    }

    /// Everything ready right now, without waiting (empty when nothing is).
    public func takeReady() -> [Element] {
        self.state.withLock { state in
            var taken: [Element] = []
            while case .batch(let batch) = state.assembly.next() {
                taken += batch
            }
            return taken
        }
    }

    /// The next batch, waiting while nothing is ready; nil once finished and empty (or cancelled).
    public func next() async -> [Element]? {
        while true {
            switch self.state.withLock({ $0.assembly.next() }) {
            case .batch(let batch): return batch
            case .end: return nil
            case .wait:
                if Task.isCancelled { return nil }
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let resumeNow = self.state.withLock { state -> Bool in
                            if state.assembly.isFinished || !state.assembly.ready.isEmpty { return true }
                            state.waiter = continuation
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                } onCancel: {
                    self.finish()
                }
            }
        }
    }
}
