import Logging
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

    @Test(.timeLimit(.minutes(1)))
    func retryingGivesUpAtTheTimeLimit() async throws {
        let attempts = Attempts()
        await #expect(throws: BoltError(.connectionClosed, "gone")) {
            try await BoltClient.retrying(
                maximumRetryTime: .milliseconds(30), initialDelay: .milliseconds(10), logger: self.logger
            ) {
                _ = await attempts.next()
                throw BoltError(.connectionClosed, "gone")
            }
        }
        // Pauses of 10 and 20 ms fit a 30 ms limit at most once each: never more than three attempts.
        #expect((1...3).contains(await attempts.count))
    }
}
