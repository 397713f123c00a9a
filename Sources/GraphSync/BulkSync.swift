import Logging
import MongoStore

/// `decode-async sync users`: writes MongoDB users to the graph as updates (missing nodes are
/// created with counters at 0.0, existing ones get the profile fields, stale documents lose),
/// in UNWIND batches.
public struct BulkSync: Sendable {
    public struct Report: Sendable, Equatable {
        public var read = 0
        public var created = 0
        public var updated = 0
        public var stale = 0
        /// Documents that fail validation, with the reason (never written).
        public var invalid: [(id: String, reason: String)] = []

        public static func == (lhs: Report, rhs: Report) -> Bool {
            lhs.read == rhs.read && lhs.created == rhs.created && lhs.updated == rhs.updated && lhs.stale == rhs.stale
                && lhs.invalid.map(\.id) == rhs.invalid.map(\.id)
        }
    }

    let source: MongoUserSource
    let writer: UserGraphWriter
    let batchSize: Int

    public init(source: MongoUserSource, writer: UserGraphWriter, batchSize: Int = 500) {
        self.source = source
        self.writer = writer
        self.batchSize = max(1, batchSize)
    }

    /// Syncs every user (`ids` nil) or the given ones; `progress` is called after each batch.
    public func run(ids: [String]?, progress: (Report) -> Void = { _ in }) async throws -> Report {
        var report = Report()
        if let ids {
            for start in stride(from: 0, to: ids.count, by: self.batchSize) {
                let page = try await self.source.users(ids: Array(ids[start..<min(start + self.batchSize, ids.count)]))
                try await self.write(page, into: &report)
                progress(report)
            }
        } else {
            try await self.source.forEachPage(pageSize: self.batchSize) { page in
                try await self.write(page, into: &report)
                progress(report)
            }
        }
        return report
    }

    private func write(_ page: [BSONDocument], into report: inout Report) async throws {
        var rows: [UserSyncRow] = []
        for document in page {
            report.read += 1
            let user = UserDocument(bson: document)
            do throws(UserMapping.Invalid) {
                rows.append(try UserMapping.row(from: user, operation: .update))
            } catch {
                report.invalid.append((user.id.stringValue ?? "?", error.reason))
            }
        }
        for outcome in try await self.writer.apply(rows) {
            switch outcome {
            case .created: report.created += 1
            case .updated: report.updated += 1
            case .stale: report.stale += 1
            case .alreadyExists: break
            }
        }
    }
}

/// `decode-async sync check`: compares MongoDB users with their nodes on the four fields the API
/// gateway compares (COMPAT.md 5.5).
public struct ConsistencyCheck: Sendable {
    public static let comparedFields = ["username", "role", "display_name", "avatar_ipfs_hash"]

    public struct Difference: Sendable, Equatable, CustomStringConvertible {
        public var userID: String
        /// nil: the node is missing.
        public var fields: [String: (mongo: String?, graph: String?)]?

        public static func == (lhs: Difference, rhs: Difference) -> Bool {
            lhs.userID == rhs.userID && lhs.fields?.keys.sorted() == rhs.fields?.keys.sorted()
        }

        public var description: String {
            guard let fields else { return "\(self.userID): no :User node" }
            let parts = fields.keys.sorted().map { key in
                let values = fields[key]
                return "\(key) mongo=\(Self.show(values?.mongo)) graph=\(Self.show(values?.graph))"
            }
            return "\(self.userID): " + parts.joined(separator: ", ")
        }

        private static func show(_ value: String?) -> String {
            guard let value else { return "(unset)" }
            let short = value.count > 60 ? String(value.prefix(60)) + "…" : value
            return "\"\(short)\""
        }
    }

    let source: MongoUserSource
    let writer: UserGraphWriter
    let pageSize: Int

    public init(source: MongoUserSource, writer: UserGraphWriter, pageSize: Int = 500) {
        self.source = source
        self.writer = writer
        self.pageSize = max(1, pageSize)
    }

    /// The `update_user_request` payloads that repair `differences`, read fresh from MongoDB (a user
    /// deleted meanwhile gets none).
    public func repairMessages(for differences: [Difference]) async throws -> [UserSyncMessage] {
        try await self.source.users(ids: differences.map(\.userID)).compactMap(UserSyncMessage.init(bson:))
    }

    /// Every difference, in `_id` order; `checked` receives the number of users compared so far.
    public func run(checked: (Int) -> Void = { _ in }) async throws -> [Difference] {
        var differences: [Difference] = []
        var count = 0
        try await self.source.forEachPage(pageSize: self.pageSize) { page in
            let users = page.map(UserDocument.init(bson:))
            let ids = users.compactMap { $0.id.stringValue?.lowercased() }
            let nodes = try await self.writer.profiles(of: ids)
            for user in users {
                guard let id = user.id.stringValue?.lowercased() else { continue }
                guard let node = nodes[id] else {
                    differences.append(Difference(userID: id, fields: nil))
                    continue
                }
                let mongo: [String: String?] = [
                    "username": user.username.stringValue, "role": user.role.stringValue,
                    "display_name": user.displayName.stringValue, "avatar_ipfs_hash": user.avatarIPFSHash.stringValue,
                ]
                var fields: [String: (mongo: String?, graph: String?)] = [:]
                for key in Self.comparedFields where (mongo[key] ?? nil) != node[key] {
                    fields[key] = (mongo[key] ?? nil, node[key])
                }
                if !fields.isEmpty { differences.append(Difference(userID: id, fields: fields)) }
            }
            count += page.count
            checked(count)
        }
        return differences
    }
}
