import MongoStore
import NIOConcurrencyHelpers

/// The notifications this instance last wrote to a socket (a bounded window): a duplicate message,
/// or the connect replay, that finds one of them still undelivered in the store (its delivery not
/// recorded yet, or read before it was) does not push it again. An id whose delivery could not be
/// recorded is forgotten, so that the next connect pushes it.
final class PushedRecently: Sendable {
    private struct State {
        var ids: Set<BSONObjectID> = []
        var order: [BSONObjectID] = []
        var next = 0
    }

    private let capacity: Int
    private let state = NIOLockedValueBox(State())

    init(capacity: Int = 10_000) {
        self.capacity = max(1, capacity)
    }

    func contains(_ id: BSONObjectID) -> Bool {
        self.state.withLockedValue { $0.ids.contains(id) }
    }

    func insert(_ id: BSONObjectID) {
        self.state.withLockedValue { state in
            guard state.ids.insert(id).inserted else { return }
            if state.order.count < self.capacity {
                state.order.append(id)
            } else {
                state.ids.remove(state.order[state.next])
                state.order[state.next] = id
                state.next = (state.next + 1) % self.capacity
            }
        }
    }

    /// Forgets `ids` (their slots in the window stay until reused).
    func forget(_ ids: [BSONObjectID]) {
        self.state.withLockedValue { state in
            for id in ids { state.ids.remove(id) }
        }
    }
}
