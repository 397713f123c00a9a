import BoltClient
import Logging

/// What one row did to the graph.
public enum UserSyncOutcome: String, Sendable, Equatable {
    /// The node did not exist and was created (by a create or an update).
    case created
    /// An update set the profile properties of an existing node.
    case updated
    /// A create found the node already there and left it alone.
    case alreadyExists = "already_exists"
    /// An update older (`updatedAt`) than the last one applied: ignored.
    case stale
}

/// Writes users to the graph with one parameterised statement per batch, and sets up the schema.
public struct UserGraphWriter: Sendable {
    let client: BoltClient
    let logger: Logger

    public init(client: BoltClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// The whole sync, for any number of rows (at most one per user): MERGE the companion state node,
    /// decide whether the event is fresh, MERGE the user, set counters only on creation, profile
    /// properties on creation or on a fresh update, and the new source timestamp. Rows are parameters;
    /// nothing from a message is ever spliced into the text.
    static let statement = """
        UNWIND $rows AS row
        OPTIONAL MATCH (existing:User {user_id: row.user_id})
        WITH row, existing IS NOT NULL AS existed
        MERGE (s:UserSyncState {user_id: row.user_id})
        WITH row, existed, s,
             (row.updated_at IS NULL OR s.source_updated_at IS NULL OR s.source_updated_at <= row.updated_at) AS fresh
        MERGE (u:User {user_id: row.user_id})
        ON CREATE SET u += row.props, u.following_number = 0.0, u.followers_number = 0.0
        ON MATCH SET u += CASE WHEN row.create OR NOT fresh THEN {} ELSE row.props END
        SET s.source_updated_at = CASE
            WHEN fresh AND row.updated_at IS NOT NULL AND (NOT existed OR NOT row.create) THEN row.updated_at
            ELSE s.source_updated_at END
        RETURN row.user_id AS user_id, existed, fresh
        """

    /// Applies `rows` in one transaction (retried on transient errors by the client).
    ///
    /// - Throws: ``BoltError`` (the Neo4j code says whether a retry can help).
    public func apply(_ rows: [UserSyncRow]) async throws -> [UserSyncOutcome] {
        guard !rows.isEmpty else { return [] }
        let records = try await self.client.withTransaction { tx in
            try await tx.run(Self.statement, parameters: ["rows": .list(rows.map(\.parameter))]).collect()
        }
        var byUser: [String: (existed: Bool, fresh: Bool)] = [:]
        for record in records {
            let id = try record.get("user_id", as: String.self)
            byUser[id] = (try record.get("existed", as: Bool.self), try record.get("fresh", as: Bool.self))
        }
        return try rows.map { row in
            guard let result = byUser[row.userID] else {
                throw BoltError(.protocolViolation, "the sync statement returned no row for a user")
            }
            return Self.outcome(row: row, existed: result.existed, fresh: result.fresh)
        }
    }

    static func outcome(row: UserSyncRow, existed: Bool, fresh: Bool) -> UserSyncOutcome {
        switch (existed, row.operation, fresh) {
        case (false, _, _): .created
        case (true, .create, _): .alreadyExists
        case (true, .update, true): .updated
        case (true, .update, false): .stale
        }
    }

    /// The schema the sync relies on: uniqueness on `User.user_id` and `UserSyncState.user_id`
    /// (Neo4j 5 syntax, which ArcadeDB accepts). When a server refuses a constraint (older syntax,
    /// existing duplicates) a plain index is tried and the missing guarantee is logged as an error.
    ///
    /// - Throws: ``BoltError`` when the server cannot be reached (transient; call again).
    public func ensureSchema() async throws {
        for label in ["User", "UserSyncState"] {
            do {
                _ = try await self.client.query(
                    "CREATE CONSTRAINT \(label.lowercased())_user_id_unique IF NOT EXISTS FOR (n:\(label)) REQUIRE n.user_id IS UNIQUE"
                )
                continue
            } catch let error as BoltError where error.kind == .server && !error.isRetryable {
                self.logger.error(
                    "the server refused a uniqueness constraint; falling back to an index, so concurrent creates of one user may duplicate it",
                    metadata: ["label": "\(label)", "code": "\(error.code ?? "")", "error": "\(error.message)"])
            }
            do {
                _ = try await self.client.query(
                    "CREATE INDEX \(label.lowercased())_user_id IF NOT EXISTS FOR (n:\(label)) ON (n.user_id)")
            } catch let error as BoltError where error.kind == .server && !error.isRetryable {
                self.logger.error(
                    "the server refused an index too; user_id lookups scan every node",
                    metadata: ["label": "\(label)", "code": "\(error.code ?? "")"])
            }
        }
    }

    /// Every property of the user's node, nil when there is none.
    public func node(of userID: String) async throws -> [String: BoltValue]? {
        let records = try await self.client.query(
            "MATCH (u:User {user_id: $id}) RETURN properties(u) AS p", parameters: ["id": .string(userID)], write: false
        )
        return records.first?["p"].mapValue
    }

    /// Reads the four compared properties (COMPAT.md 5.5) of the given users; missing users are absent.
    public func profiles(of userIDs: [String]) async throws -> [String: [String: String]] {
        let records = try await self.client.query(
            """
            UNWIND $ids AS id
            MATCH (u:User {user_id: id})
            RETURN u.user_id AS user_id, u.username AS username, u.role AS role,
                   u.display_name AS display_name, u.avatar_ipfs_hash AS avatar_ipfs_hash
            """,
            parameters: ["ids": .list(userIDs.map(BoltValue.string))], write: false)
        var profiles: [String: [String: String]] = [:]
        for record in records {
            let id = try record.get("user_id", as: String.self)
            var profile: [String: String] = [:]
            for key in ConsistencyCheck.comparedFields {
                if let value = record[key].stringValue { profile[key] = value }
            }
            profiles[id] = profile
        }
        return profiles
    }
}
