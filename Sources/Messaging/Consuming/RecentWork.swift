import NIOConcurrencyHelpers

/// A bounded, in-process record of recent keys: the newest `capacity` are remembered, the oldest
/// forgotten first.
///
/// The queue consumer keeps the work this instance completed (`message_id`s, or body hashes, which
/// are only consulted for deliveries the broker marks `redelivered`: two identical NestJS emits are
/// two real events) to recognise a redelivery whose ack was lost. The notification flow keeps the
/// notifications it pushed.
public final class RecentWork<Key: Hashable & Sendable>: Sendable {
    private struct State {
        var order: [Key] = []
        var keys: Set<Key> = []
        var next = 0
    }

    private let capacity: Int
    private let state = NIOLockedValueBox(State())

    /// Remembers at most `capacity` keys.
    public init(capacity: Int = 10_000) {
        self.capacity = max(1, capacity)
    }

    public func contains(_ key: Key) -> Bool {
        self.state.withLockedValue { $0.keys.contains(key) }
    }

    public func insert(_ key: Key) {
        self.state.withLockedValue { state in
            guard !state.keys.contains(key) else { return }
            if state.order.count < self.capacity {
                state.order.append(key)
            } else {
                state.keys.remove(state.order[state.next])
                state.order[state.next] = key
                state.next = (state.next + 1) % self.capacity
            }
            state.keys.insert(key)
        }
    }

    /// Forgets `keys` at once (their slots in the window stay until reused).
    public func forget(_ keys: some Sequence<Key>) {
        self.state.withLockedValue { state in
            for key in keys { state.keys.remove(key) }
        }
    }
}
