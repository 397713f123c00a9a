import Foundation
import Logging
import ServiceLifecycle
import Testing

@testable import BoltClient

/// BoltClient against the local graph server (ArcadeDB's Bolt listener), read back with the Python driver.
@Suite("BoltClient against the local graph server")
struct BoltIntegrationTests {
    /// A label of this test's own: 16 random letters (26^16), so tests running side by side, or
    /// nodes an earlier failed run left behind, never share one.
    private func label() -> String {
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        return "BoltTest" + String((0..<16).map { _ in letters[Int.random(in: 0..<letters.count)] })
    }

    @Test(arguments: [true, false])
    func negotiatesLogsInAndDecodesEveryType(allowBolt5: Bool) async throws {
        try await GraphLock.shared {
            var configuration = try Neo4jPeer.configuration()
            configuration.allowBolt5 = allowBolt5
            let connection = try await BoltConnection.connect(to: configuration.address, configuration: configuration)
            // ArcadeDB answers the highest version offered: 5.4 when 5.x is allowed, else 4.4.
            #expect(connection.version == (allowBolt5 ? BoltVersion(5, 4) : BoltVersion(4, 4)))
            let record = try #require(
                try await connection.run(
                    """
                    RETURN 1 AS i, 2.5 AS f, 'x' AS s, null AS n, true AS b, [1, 'a'] AS l, {k: 'v'} AS m,
                    date('2024-01-02') AS d, duration('P1D') AS du, point({x: 1.0, y: 2.0}) AS p, $echo AS echo
                    """,
                    parameters: ["echo": ["nested": [1, 2.0, "three", nil]]]
                ).first())
            #expect(try record.get("i", as: Int.self) == 1)
            #expect(record["f"] == .float(2.5))
            #expect(record["s"] == "x")
            #expect(record["n"] == .null)
            #expect(record["b"] == true)
            #expect(record["l"] == [1, "a"])
            #expect(record["m"] == ["k": "v"])
            #expect(record["d"] == .date(BoltDate(daysSinceEpoch: 19_724)))
            #expect(record["du"] == .duration(BoltDuration(months: 0, days: 1, seconds: 0, nanoseconds: 0)))
            #expect(record["p"] == .point(BoltPoint(srid: 7203, x: 1, y: 2)))
            #expect(record["echo"] == ["nested": [1, 2.0, "three", nil]])
            await connection.close()
        }
    }

    @Test func writesThePythonDriverReadsLiterally() async throws {
        try await GraphLock.shared {
            let client = BoltClient(configuration: try Neo4jPeer.configuration())
            let label = self.label()
            let tricky = #"a'b"c\d` }) MATCH (n) DETACH DELETE n //"#
            _ = try await client.query(
                "CREATE (u:\(label) {name: $name, score: $score, count: $count})",
                parameters: ["name": .string(tricky), "score": 0.0, "count": 3])
            let records = try await Neo4jPeer.query("MATCH (u:\(label)) RETURN u")
            #expect(records.count == 1)
            let node = try #require(records.first?["u"] as? [String: Any])
            let properties = try #require(node["properties"] as? [String: Any])
            #expect(properties["name"] as? String == tricky)
            #expect((properties["score"] as? [String: Any])?["float"] as? Double == 0.0)
            #expect(properties["count"] as? Int == 3)
            _ = try await client.query("MATCH (u:\(label)) DELETE u")
            await client.shutdown()
        }
    }

    @Test func aFailureCarriesTheNeo4jCodeAndTheConnectionStaysUsable() async throws {
        try await GraphLock.shared {
            let configuration = try Neo4jPeer.configuration()
            let connection = try await BoltConnection.connect(to: configuration.address, configuration: configuration)
            await #expect {
                _ = try await connection.run("THIS IS NOT CYPHER")
            } throws: { error in
                guard let bolt = error as? BoltError else { return false }
                return bolt.kind == .server && bolt.code?.hasPrefix("Neo.") == true
            }
            let again = try await connection.run("RETURN 42 AS answer").collect()
            #expect(again.first?["answer"] == 42)
            await connection.close()
        }
    }

    @Test func streamsLargeResultsInPulls() async throws {
        try await GraphLock.shared {
            let configuration = try Neo4jPeer.configuration()
            let connection = try await BoltConnection.connect(to: configuration.address, configuration: configuration)
            let result = try await connection.run("UNWIND range(1, 2500) AS i RETURN i", fetchSize: 100)
            var sum: Int64 = 0
            var count = 0
            for try await record in result {
                sum += try record.get("i", as: Int64.self)
                count += 1
            }
            #expect(count == 2500)
            #expect(sum == 2500 * 2501 / 2)
            // An abandoned stream is discarded before the next statement.
            _ = try await connection.run("UNWIND range(1, 500) AS i RETURN i", fetchSize: 10)
            #expect(try await connection.run("RETURN 'next' AS s").first()?["s"] == "next")
            await connection.close()
        }
    }

    @Test func transactionsCommitOrRollBack() async throws {
        try await GraphLock.shared {
            let client = BoltClient(configuration: try Neo4jPeer.configuration())
            let label = self.label()
            try await client.withTransaction { tx in
                _ = try await tx.run("CREATE (:\(label) {k: 'kept'})")
            }
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await client.withTransaction { tx in
                    _ = try await tx.run("CREATE (:\(label) {k: 'dropped'})")
                    throw Abort()
                }
            }
            let records = try await Neo4jPeer.query("MATCH (n:\(label)) RETURN n.k AS k")
            #expect(records.map { $0["k"] as? String } == ["kept"])
            _ = try await client.query("MATCH (n:\(label)) DELETE n")
            await client.shutdown()
        }
    }

    /// In a `ServiceGroup` (as the runtime holds it) the client serves until graceful shutdown, then
    /// closes its pools: the group's end is the client's end, with no shutdown call of its own.
    @Test func asAServiceItServesUntilGracefulShutdownThenRefusesWork() async throws {
        try await GraphLock.shared {
            let client = BoltClient(configuration: try Neo4jPeer.configuration())
            let group = ServiceGroup(configuration: .init(services: [client], logger: Logger(label: "test.bolt")))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                #expect(try await client.query("RETURN 1 AS one").first?["one"] == .int(1))
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            let error = await #expect(throws: BoltError.self) { try await client.query("RETURN 1 AS one") }
            #expect(error?.kind == .poolClosed)
        }
    }

    @Test func constraintViolationsAreClientErrorsNotRetried() async throws {
        try await GraphLock.shared {
            let client = BoltClient(configuration: try Neo4jPeer.configuration())
            let label = self.label()
            _ = try await client.query("CREATE CONSTRAINT IF NOT EXISTS FOR (n:\(label)) REQUIRE n.key IS UNIQUE")
            _ = try await client.query("CREATE (:\(label) {key: 'one'})")
            await #expect {
                try await client.withTransaction { tx in _ = try await tx.run("CREATE (:\(label) {key: 'one'})") }
            } throws: { error in
                (error as? BoltError)?.code == "Neo.ClientError.Schema.ConstraintValidationFailed"
            }
            let records = try await Neo4jPeer.query("MATCH (n:\(label)) RETURN count(n) AS c")
            #expect(records.first?["c"] as? Int == 1)
            _ = try await client.query("MATCH (n:\(label)) DELETE n")
            await client.shutdown()
        }
    }

    @Test func aWrongPasswordIsAnAuthenticationFailure() async throws {
        try await GraphLock.shared {
            let configuration = try BoltConfiguration(uri: Neo4jPeer.uri, username: Neo4jPeer.user, password: "wrong")
            await #expect {
                _ = try await BoltConnection.connect(to: configuration.address, configuration: configuration)
            } throws: { error in
                (error as? BoltError)?.kind == .authenticationFailed
            }
        }
    }

    @Test func routingSchemeFetchesATableAndWrites() async throws {
        try await GraphLock.shared {
            let uri = Neo4jPeer.uri.replacingOccurrences(of: "bolt://", with: "neo4j://")
            let client = BoltClient(configuration: try Neo4jPeer.configuration(uri: uri))
            let records = try await client.query("RETURN 'routed' AS r")
            #expect(records.first?["r"] == "routed")
            await client.shutdown()
        }
    }

    @Test func thePoolBoundsConnectionsUnderConcurrency() async throws {
        try await GraphLock.shared {
            var configuration = try Neo4jPeer.configuration()
            configuration.maximumConnectionsPerServer = 3
            let client = BoltClient(configuration: configuration)
            try await withThrowingTaskGroup(of: Int64.self) { group in
                for i in 0..<20 {
                    group.addTask {
                        try await client.query("RETURN $i AS i", parameters: ["i": .int(Int64(i))]).first?["i"].intValue
                            ?? -1
                    }
                }
                var seen: Set<Int64> = []
                for try await value in group { seen.insert(value) }
                #expect(seen == Set(0..<20))
            }
            await client.shutdown()
        }
    }
}

extension BoltIntegrationTests {
    /// `bolt+ssc://` through a TLS terminator with a self-signed certificate (a Python peer in front of
    /// the local listener); `bolt+s://` refuses the same certificate.
    @Test func tlsSchemesEncryptAndVerifyAsTheirNamesSay() async throws {
        try await GraphLock.shared {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bolt-tls-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let cert = directory.appendingPathComponent("cert.pem").path
            let key = directory.appendingPathComponent("key.pem").path
            try await TestEnvironment.run([
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                "-keyout", key, "-out", cert,
            ])
            let target = URLComponents(string: Neo4jPeer.uri)?.port ?? 7687
            let portFile = directory.appendingPathComponent("port").path
            // Started in the background; it stops by itself after 120 s.
            try await TestEnvironment.run([
                "/bin/sh", "-c",
                "\"$0\" Tests/IntegrationTests/Peers/tls_proxy.py \"$1\" \"$2\" \"$3\" > \"$4\" & sleep 0.5",
                Neo4jPeer.python, cert, key, String(target), portFile,
            ])
            try await eventually("the TLS proxy printed its port") {
                ((try? String(contentsOfFile: portFile, encoding: .utf8)) ?? "").hasSuffix("\n")
            }
            let port = try #require(
                Int(
                    try String(contentsOfFile: portFile, encoding: .utf8).trimmingCharacters(
                        in: .whitespacesAndNewlines)))

            let trusting = BoltClient(configuration: try Neo4jPeer.configuration(uri: "bolt+ssc://localhost:\(port)"))
            #expect(try await trusting.query("RETURN 'over tls' AS s").first?["s"] == "over tls")
            await trusting.shutdown()

            let verifying = BoltClient(configuration: try Neo4jPeer.configuration(uri: "bolt+s://localhost:\(port)"))
            await #expect {
                _ = try await verifying.query("RETURN 1 AS one")
            } throws: { error in
                // The handshake fails on the certificate, not on anything else.
                guard let bolt = error as? BoltError else { return false }
                return [.connectionFailed, .connectionClosed].contains(bolt.kind)
                    && bolt.message.contains("CERTIFICATE_VERIFY_FAILED")
            }
            await verifying.shutdown()
        }
    }
}

extension BoltIntegrationTests {
    /// With one connection allowed and no liveness check on acquire (`livenessCheckAfter` is long), the
    /// pool's release alone must keep it sound: a connection handed back inside a transaction is reset
    /// there (its write rolled back) and reused; one that died while checked out is dropped (or the
    /// next query would wait forever for the one slot).
    @Test(.timeLimit(.minutes(1)))
    func thePoolResetsOnReleaseAndDropsDeadConnections() async throws {
        try await GraphLock.shared {
            var configuration = try Neo4jPeer.configuration()
            configuration.maximumConnectionsPerServer = 1
            configuration.livenessCheckAfter = .seconds(3600)
            let client = BoltClient(configuration: configuration)
            let label = self.label()

            // Handed back mid-transaction, with a write in it.
            let first = try await client.withConnection { connection in
                try await connection.begin()
                _ = try await connection.run("CREATE (:\(label) {k: 'uncommitted'})")
                return connection
            }
            let reused = try await client.withConnection { connection in
                // Reset on release: the same connection, outside any transaction, the write rolled back.
                let count = try await connection.run("MATCH (n:\(label)) RETURN count(n) AS c").first()?["c"]
                #expect(count == 0)
                return connection
            }
            #expect(reused === first)
            #expect(try await Neo4jPeer.query("MATCH (n:\(label)) RETURN count(n) AS c").first?["c"] as? Int == 0)

            // Closed while checked out: dropped on release, and the next query gets a new connection.
            // (The test holds `first`, so the replacement cannot be a new object at its address.)
            try await client.withConnection { connection in await connection.close() }
            // Dropped by the release itself, not by the next acquire: the pool holds nothing now.
            let afterRelease = await client.pool(for: client.configuration.address).counts
            #expect(afterRelease.idle == 0)
            #expect(afterRelease.open == 0)
            let replacement = try await client.withConnection { connection in
                #expect(connection.isOpen)
                return connection
            }
            #expect(replacement !== first)
            #expect(try await client.query("RETURN 1 AS one").first?["one"] == 1)
            await client.shutdown()
        }
    }
}

extension BoltIntegrationTests {
    /// The database goes to the server with every statement and transaction: the stack's `neo4j`
    /// database answers, a missing one is refused with a Neo4j code.
    @Test func databaseSelectionReachesTheServer() async throws {
        try await GraphLock.exclusive {
            let configuration = try Neo4jPeer.configuration()
            let connection = try await BoltConnection.connect(to: configuration.address, configuration: configuration)
            #expect(try await connection.run("RETURN 1 AS one", database: "neo4j").first()?["one"] == 1)
            await #expect {
                _ = try await connection.run(
                    "RETURN 1 AS one", database: "no_such_database_\(UUID().uuidString.prefix(6))")
            } throws: { error in
                (error as? BoltError)?.code?.hasPrefix("Neo.") == true
            }
            // ArcadeDB keeps a refused database selected on the connection (the Python driver sees the
            // same), so the next statement names its database again.
            #expect(try await connection.run("RETURN 2 AS two", database: "neo4j").first()?["two"] == 2)
            await connection.close()
        }
    }
}
