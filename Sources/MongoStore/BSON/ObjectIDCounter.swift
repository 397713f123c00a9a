import Synchronization

/// The 3-byte increasing counter of generated ObjectIds, starting at a random value.
final class ObjectIDCounter: Sendable {
    private let value = Atomic<UInt32>(UInt32.random(in: 0..<0xFF_FFFF))

    func add() -> UInt32 {
        self.value.add(1, ordering: .relaxed).newValue & 0xFF_FFFF
    }
}
