import BoltClient
import FlowKit

/// The graph sync's settings (COMPAT.md 1.4).
public struct SyncConfiguration: Sendable {
    public static let neo4jSchemes = ["bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc"]

    public var http = HTTPBinding(host: "0.0.0.0", port: 4006)
    public var neo4jURI: String
    public var neo4jUser: String
    public var neo4jPassword: String
    public var neo4jDatabase: String?
    /// Messages written in one UNWIND transaction at most (1: no batching).
    public var batchSize = 50
    /// How long the first message of a batch waits for company.
    public var batchWait = Duration.milliseconds(10)
    /// Read each written node back and count the outcome (`sync.validation.ok|mismatch|failed`).
    public var validate = false
    /// Bearer token of the `/sync/...` endpoints; nil: the endpoints are off.
    public var adminToken: String?

    public init(neo4jURI: String, neo4jUser: String, neo4jPassword: String) {
        self.neo4jURI = neo4jURI
        self.neo4jUser = neo4jUser
        self.neo4jPassword = neo4jPassword
    }

    /// The Bolt client's configuration, announcing `decode-async/<version>`.
    public func boltConfiguration(version: String) throws -> BoltConfiguration {
        try BoltConfiguration(
            uri: self.neo4jURI, username: self.neo4jUser, password: self.neo4jPassword, database: self.neo4jDatabase,
            userAgent: "decode-async/\(version)")
    }
}
