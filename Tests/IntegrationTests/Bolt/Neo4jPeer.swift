import BoltClient
import Foundation

/// The local graph server (ArcadeDB's Bolt listener) and the official Python driver as an independent reader.
enum Neo4jPeer {
    static var uri: String { ProcessInfo.processInfo.environment["NEO4J_URI"] ?? "bolt://127.0.0.1:7687" }
    static var user: String { ProcessInfo.processInfo.environment["NEO4J_USER"] ?? "root" }
    static var password: String { ProcessInfo.processInfo.environment["NEO4J_PASSWORD"] ?? "decode-async-dev" }

    static func configuration(uri: String? = nil) throws -> BoltConfiguration {
        try BoltConfiguration(uri: uri ?? Self.uri, username: Self.user, password: Self.password)
    }

    static var python: String { TestEnvironment.repositoryRoot.appendingPathComponent(".venv/bin/python").path }

    /// Runs `cypher` through the Python `neo4j` driver and returns its records as JSON objects.
    static func query(_ cypher: String, parameters: [String: Any] = [:]) async throws -> [[String: Any]] {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: parameters), as: UTF8.self)
        let output = try await TestEnvironment.run([
            Self.python, "Tests/IntegrationTests/Peers/neo4j_peer.py", "query", cypher, json,
        ])
        guard let line = output.split(separator: "\n").last,
            let records = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [[String: Any]]
        else { throw TestEnvironment.CommandFailed(command: "neo4j_peer.py", output: output) }
        return records
    }
}
