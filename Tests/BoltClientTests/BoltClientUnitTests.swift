import Logging
import Synchronization
import Testing

@testable import BoltClient

@Suite struct BoltClientUnitTests {
    @Test func parsesEverySchemeOfNeo4jURI() throws {
        let cases: [(String, Bool, BoltConfiguration.Security)] = [
            ("bolt://db:7688", false, .plain),
            ("bolt+s://db", false, .tls(verifyCertificate: true)),
            ("bolt+ssc://db", false, .tls(verifyCertificate: false)),
            ("neo4j://db", true, .plain),
            ("neo4j+s://x.databases.neo4j.io", true, .tls(verifyCertificate: true)),
            ("neo4j+ssc://db?region=eu", true, .tls(verifyCertificate: false)),
        ]
        for (uri, routing, security) in cases {
            let configuration = try BoltConfiguration(uri: uri, username: "u", password: "p")
            #expect(configuration.routing == routing)
            #expect(configuration.security == security)
        }
        #expect(
            try BoltConfiguration(uri: "bolt://db:7688", username: "u", password: "p").address
                == BoltAddress(host: "db", port: 7688))
        #expect(
            try BoltConfiguration(uri: "neo4j://db?region=eu", username: "u", password: "p").routingContext == [
                "region": "eu"
            ])
        #expect(throws: BoltError.self) { try BoltConfiguration(uri: "http://db", username: "u", password: "p") }
        #expect(throws: BoltError.self) { try BoltConfiguration(uri: "bolt://db?x=1", username: "u", password: "p") }
    }

    @Test func classifiesNeo4jCodes() {
        #expect(BoltError(.server, code: "Neo.TransientError.Transaction.DeadlockDetected", "").isRetryable)
        #expect(!BoltError(.server, code: "Neo.TransientError.Transaction.Terminated", "").isRetryable)
        #expect(BoltError(.server, code: "Neo.ClientError.Cluster.NotALeader", "").isRetryable)
        #expect(BoltError(.server, code: "Neo.ClientError.Cluster.NotALeader", "").needsRoutingRefresh)
        #expect(!BoltError(.server, code: "Neo.ClientError.Schema.ConstraintValidationFailed", "").isRetryable)
        #expect(
            BoltError(.server, code: "Neo.ClientError.Schema.ConstraintValidationFailed", "").classification
                == "ClientError")
        #expect(BoltError(.connectionClosed, "").isRetryable)
        #expect(
            BoltError.failure(["neo4j_code": "Neo.ClientError.Security.Unauthorized"]).kind == .authenticationFailed)
    }

    @Test func routingTableSendsWritesToWritersAndExpires() throws {
        let now = ContinuousClock.now
        let table = try BoltRoutingTable(
            [
                "ttl": 300, "db": "neo4j",
                "servers": [
                    ["addresses": ["a:7687", "b:7687"], "role": "ROUTE"],
                    ["addresses": ["a:7687"], "role": "WRITE"],
                    ["addresses": ["b:7687", "[::1]:7688"], "role": "READ"],
                ],
            ], fetchedAt: now)
        #expect(table.writers == [BoltAddress(host: "a")])
        #expect(table.readers == [BoltAddress(host: "b"), BoltAddress(host: "::1", port: 7688)])
        #expect(!table.isStale(forWriting: true, now: now + .seconds(299)))
        #expect(table.isStale(forWriting: true, now: now + .seconds(300)))
        var lostLeader = table
        lostLeader.forgetWriter(BoltAddress(host: "a"))
        #expect(lostLeader.isStale(forWriting: true, now: now))
        #expect(!lostLeader.isStale(forWriting: false, now: now))
        #expect(throws: BoltError.self) { try BoltRoutingTable(["ttl": 1, "servers": []], fetchedAt: now) }
    }

    @Test func recordsGiveTypedAccess() throws {
        let record = BoltRecord(keys: ["name", "count", "missing"], values: ["a", 2.0, nil])
        #expect(try record.get("name", as: String.self) == "a")
        #expect(try record.get("count", as: Double.self) == 2.0)
        #expect(try record.get("missing", as: String?.self) == nil)
        #expect(throws: BoltError.self) { try record.get("name", as: Int.self) }
        #expect(record["nope"] == .null)
    }
}

@Suite struct TransactionRetryTests {
    actor Attempts {
        var count = 0
        func next() -> Int {
            self.count += 1
            return self.count
        }
    }

    private let logger = Logger(label: "test")

    @Test func transientErrorsAreRetriedUntilTheBodySucceeds() async throws {
        let attempts = Attempts()
        let result = try await BoltClient.retrying(
            maximumRetryTime: .seconds(10), initialDelay: .milliseconds(1), logger: self.logger
        ) {
            if await attempts.next() < 3 {
                throw BoltError(.server, code: "Neo.TransientError.Transaction.DeadlockDetected", "deadlock")
            }
            return "done"
        }
        #expect(result == "done")
        #expect(await attempts.count == 3)
    }

    @Test func clientErrorsAreNotRetried() async throws {
        let attempts = Attempts()
        await #expect(throws: BoltError.self) {
            try await BoltClient.retrying(
                maximumRetryTime: .seconds(10), initialDelay: .milliseconds(1), logger: self.logger
            ) {
                _ = await attempts.next()
                throw BoltError(.server, code: "Neo.ClientError.Statement.SyntaxError", "bad")
            }
        }
        #expect(await attempts.count == 1)
    }

    @Test func retryingGivesUpWhenTheNextPauseWouldEndPastTheTimeLimit() async throws {
        let attempts = Attempts()
        let clock = SteppingClock()
        let noJitter = { 1.0 }
        await #expect(throws: BoltError(.connectionClosed, "gone")) {
            try await BoltClient.retrying(
                maximumRetryTime: .seconds(1), initialDelay: .milliseconds(100), clock: clock, jitter: noJitter,
                logger: self.logger
            ) {
                _ = await attempts.next()
                throw BoltError(.connectionClosed, "gone")
            }
        }
        // Pauses of 100, 200 and 400 ms end at 700 ms; the next (800 ms) would end past 1 s.
        #expect(clock.pauses == [.milliseconds(100), .milliseconds(200), .milliseconds(400)])
        #expect(await attempts.count == 4)
    }

    @Test func retryPausesDoubleAndTheirJitterScalesThemUpToFiveSeconds() async throws {
        let attempts = Attempts()
        let clock = SteppingClock()
        let mostJitter = { 1.5 }
        let result = try await BoltClient.retrying(
            maximumRetryTime: .seconds(60), initialDelay: .seconds(1), clock: clock, jitter: mostJitter,
            logger: self.logger
        ) {
            if await attempts.next() < 6 { throw BoltError(.connectionClosed, "gone") }
            return "done"
        }
        #expect(result == "done")
        #expect(clock.pauses == [1.5, 3, 6, 7.5, 7.5].map { Duration.seconds($0) })
    }
}

/// A clock that only moves when slept on: each sleep is recorded and returns at once, its deadline
/// becoming the new now (retry schedules checked without waiting).
final class SteppingClock: Clock, Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Self { Self(offset: self.offset + duration) }
        func duration(to other: Self) -> Duration { other.offset - self.offset }
        static func < (lhs: Self, rhs: Self) -> Bool { lhs.offset < rhs.offset }
    }

    private let state = Mutex<(now: Instant, pauses: [Duration])>((Instant(offset: .zero), []))

    var now: Instant { self.state.withLock { $0.now } }
    var minimumResolution: Duration { .nanoseconds(1) }
    var pauses: [Duration] { self.state.withLock { $0.pauses } }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        self.state.withLock { state in
            state.pauses.append(state.now.duration(to: deadline))
            state.now = max(state.now, deadline)
        }
    }

    /// Interpolating the configuration (as a log line might) never shows the password.
    @Test func descriptionMasksThePassword() throws {
        let routed = try BoltConfiguration(
            uri: "neo4j+s://graph.example:7690", username: "neo4j", password: "s3cr3t-pw", database: "users")
        #expect("\(routed)" == "neo4j+s://neo4j:***@graph.example:7690 database users")
        #expect(String(reflecting: routed) == "\(routed)")
        let direct = try BoltConfiguration(uri: "bolt://graph.example", username: "root", password: "s3cr3t-pw")
        #expect("\(direct)" == "bolt://root:***@graph.example:7687")
    }
}
