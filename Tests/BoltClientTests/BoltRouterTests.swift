import Synchronization
import Testing

@testable import BoltClient

@Suite struct BoltRouterTests {
    private static func table(writer: String, ttl: Int64 = 300) -> [String: BoltValue] {
        [
            "ttl": .int(ttl),
            "servers": [
                ["addresses": ["r1:7687", "r2:7687"], "role": "ROUTE"],
                ["addresses": [.string(writer)], "role": "WRITE"],
                ["addresses": ["r2:7687"], "role": "READ"],
            ],
        ]
    }

    @Test func writesGoToTheWriterAndNotALeaderRefreshesTheTable() async throws {
        let router = BoltRouter(seed: BoltAddress(host: "seed"))
        let fetches = Mutex<[BoltAddress]>([])
        let writers = Mutex(["w1:7687", "w2:7687"])
        let fetch: @Sendable (BoltAddress) async throws(BoltError) -> [String: BoltValue] = {
            address async throws(BoltError) in
            fetches.withLock { $0.append(address) }
            return Self.table(writer: writers.withLock { $0.removeFirst() })
        }
        #expect(try await router.address(write: true, database: nil, fetch: fetch) == BoltAddress(host: "w1"))
        #expect(try await router.address(write: true, database: nil, fetch: fetch) == BoltAddress(host: "w1"))
        #expect(try await router.address(write: false, database: nil, fetch: fetch) == BoltAddress(host: "r2"))
        #expect(fetches.withLock { $0 } == [BoltAddress(host: "seed")])
        // w1 answered NotALeader: forgotten, so the next write fetches a new table from a known router.
        await router.forgetWriter(BoltAddress(host: "w1"))
        #expect(try await router.address(write: true, database: nil, fetch: fetch) == BoltAddress(host: "w2"))
        #expect(fetches.withLock { $0 } == [BoltAddress(host: "seed"), BoltAddress(host: "r1")])
    }

    @Test func anExpiredTableIsFetchedAgainAndDeadRoutersAreSkipped() async throws {
        let router = BoltRouter(seed: BoltAddress(host: "seed"))
        let fetches = Mutex<[BoltAddress]>([])
        let fetch: @Sendable (BoltAddress) async throws(BoltError) -> [String: BoltValue] = {
            address async throws(BoltError) in
            fetches.withLock { $0.append(address) }
            if address.host == "r1" { throw BoltError(.connectionFailed, "down") }
            return Self.table(writer: "w1:7687", ttl: 0)
        }
        _ = try await router.address(write: true, database: nil, fetch: fetch)
        _ = try await router.address(write: true, database: nil, fetch: fetch)
        #expect(
            fetches.withLock { $0 } == [BoltAddress(host: "seed"), BoltAddress(host: "r1"), BoltAddress(host: "r2")])
    }
}
