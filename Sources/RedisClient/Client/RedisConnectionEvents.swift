import NIOConcurrencyHelpers

/// What happened to a ``RedisClient``'s link to the server, as ``RedisClient/connectionEvents()``
/// reports it. The subscriber connection kept by ``RedisClient/run()`` is the witness: it is the one
/// connection that is always open while the server answers.
public enum RedisConnectionEvent: Sendable, Equatable {
    /// The subscriber connection is up and logged in: the first time, or again after it was lost.
    /// Keys written before a server restart may be gone (a server without persistence starts empty).
    case connected
    /// The subscriber connection was lost; commands fail until the next ``connected``.
    case disconnected
}

/// Every listener of connection events; each gets its own stream, ended at shutdown.
final class ConnectionEventListeners: Sendable {
    private struct State {
        var continuations: [UInt64: AsyncStream<RedisConnectionEvent>.Continuation] = [:]
        var nextID: UInt64 = 0
        var finished = false
    }

    private let state = NIOLockedValueBox(State())

    func add() -> AsyncStream<RedisConnectionEvent> {
        let (stream, continuation) = AsyncStream<RedisConnectionEvent>.makeStream(bufferingPolicy: .bufferingNewest(8))
        let id = self.state.withLockedValue { state -> UInt64? in
            guard !state.finished else { return nil }
            state.nextID += 1
            state.continuations[state.nextID] = continuation
            return state.nextID
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLockedValue { _ = $0.continuations.removeValue(forKey: id) }
        }
        return stream
    }

    func yield(_ event: RedisConnectionEvent) {
        let continuations = self.state.withLockedValue { Array($0.continuations.values) }
        for continuation in continuations {
            continuation.yield(event)
        }
    }

    func finishAll() {
        let continuations = self.state.withLockedValue { state in
            state.finished = true
            defer { state.continuations.removeAll() }
            return Array(state.continuations.values)
        }
        for continuation in continuations {
            continuation.finish()
        }
    }
}

extension RedisClient {
    /// A stream of the client's connection events: ``RedisConnectionEvent/connected`` each time the
    /// subscriber connection of ``run()`` is (re)established, ``RedisConnectionEvent/disconnected``
    /// each time it is lost. Use it to rewrite state that a server restart may have erased.
    ///
    /// Events before the call are not replayed; the stream ends at ``shutdown()`` or when its
    /// iterating task is cancelled. Needs ``run()`` to be running.
    public func connectionEvents() -> AsyncStream<RedisConnectionEvent> {
        self.connectionListeners.add()
    }
}
