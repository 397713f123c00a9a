import NIOConcurrencyHelpers

/// A bounded, in-process record of work this instance completed, to recognise a redelivery of a
/// message whose ack was lost (the work is done; only the ack is missing).
///
/// Keys are `message_id`s, or body hashes, which are only consulted for deliveries the broker marks
/// `redelivered` (two identical NestJS emits are two real events).
final class RecentWork: Sendable {
    private struct State {
        var order: [String] = []
        var keys: Set<String> = []
        var next = 0
    }

    private let capacity: Int
    private let state = NIOLockedValueBox(State())

    init(capacity: Int = 10_000) {
        self.capacity = max(1, capacity)
    }

    func contains(_ key: String) -> Bool {
        self.state.withLockedValue { $0.keys.contains(key) }
    }

    func insert(_ key: String) {
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
}
