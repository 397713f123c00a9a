import BoltClient
import Foundation
import Logging
import Messaging
import MetricsTestKit
import Testing

@testable import GraphSync

@Suite struct UserMappingTests {
    private func decode(_ json: String) throws -> UserDocument {
        try JSONDecoder().decode(UserDocument.self, from: Data(json.utf8))
    }

    @Test func mapsExactlyTheProfileFieldsAndIgnoresTheRest() throws {
        let document = try self.decode(
            """
            {"_id":"665f1c2e9b1d4a0012345678","username":"alice","display_name":"Alice","role":"user",
             "avatar_ipfs_hash":"bafk","email":"a@b.io","password_hashed":"$2b$10$x","bio":"hi","__v":0,
             "wallets":[{"a":1}],"updatedAt":"2025-01-02T03:04:05.678Z","is_active":true}
            """)
        let row = try UserMapping.row(from: document, operation: .create)
        #expect(row.userID == "665f1c2e9b1d4a0012345678")
        #expect(
            row.properties == [
                "username": "alice", "display_name": "Alice", "role": "user", "avatar_ipfs_hash": "bafk",
            ])
        #expect(row.sourceUpdatedAt == 1_735_787_045_678)
        #expect(row.operation == .create)
    }

    @Test func missingOptionalFieldsStayUnset() throws {
        let row = try UserMapping.row(
            from: try self.decode(#"{"_id":"665F1C2E9B1D4A0012345678","username":"bob","display_name":null}"#),
            operation: .update)
        #expect(row.properties == ["username": "bob"])
        #expect(row.userID == "665f1c2e9b1d4a0012345678")
        #expect(row.sourceUpdatedAt == nil)
    }

    @Test(arguments: [
        (#"{"username":"x"}"#, "_id is missing"),
        (#"{"_id":12}"#, "_id is not a string"),
        (#"{"_id":"665f1c2e9b1d4a001234567"}"#, "_id is not a 24-character hex ObjectId"),
        (#"{"_id":"665f1c2e9b1d4a001234567z"}"#, "_id is not a 24-character hex ObjectId"),
        (#"{"_id":"665f1c2e9b1d4a0012345678","username":5}"#, "username is a number, not a string"),
        (#"{"_id":"665f1c2e9b1d4a0012345678","role":{"a":1}}"#, "role is an object or array, not a string"),
        (#"{"_id":"665f1c2e9b1d4a0012345678","username":""}"#, "username is empty"),
        (#"{"_id":"665f1c2e9b1d4a0012345678","updatedAt":"yesterday"}"#, "updatedAt is not an ISO-8601 date"),
    ])
    func rejectsInvalidDocumentsWithAReason(json: String, reason: String) throws {
        #expect(throws: UserMapping.Invalid(reason: reason)) {
            try UserMapping.row(from: try self.decode(json), operation: .create)
        }
    }

    @Test func refusesOverlongFieldsWithoutTruncating() throws {
        let long = String(repeating: "é", count: 257)
        let document = UserDocument(id: .string("665f1c2e9b1d4a0012345678"), displayName: .string(long))
        #expect(throws: UserMapping.Invalid(reason: "display_name has 257 characters, more than 256")) {
            try UserMapping.row(from: document, operation: .update)
        }
        let fits = UserDocument(id: .string("665f1c2e9b1d4a0012345678"), displayName: .string(String(long.dropLast())))
        #expect(try UserMapping.row(from: fits, operation: .update).properties["display_name"]?.count == 256)
    }

    @Test func outcomesFollowTheOriginalSemantics() {
        let create = UserSyncRow(userID: "a", operation: .create, properties: [:], sourceUpdatedAt: nil)
        let update = UserSyncRow(userID: "a", operation: .update, properties: [:], sourceUpdatedAt: nil)
        #expect(UserGraphWriter.outcome(row: create, existed: false, fresh: true) == .created)
        #expect(UserGraphWriter.outcome(row: create, existed: true, fresh: true) == .alreadyExists)
        #expect(UserGraphWriter.outcome(row: update, existed: false, fresh: true) == .created)
        #expect(UserGraphWriter.outcome(row: update, existed: true, fresh: true) == .updated)
        #expect(UserGraphWriter.outcome(row: update, existed: true, fresh: false) == .stale)
    }

    @Test func theStatementTakesEverythingAsParameters() {
        // No value from a message is ever part of the statement text.
        #expect(UserGraphWriter.statement.contains("UNWIND $rows AS row"))
        // The only parameter is $rows and the text holds no literal a value could have been spliced into.
        let parameters = UserGraphWriter.statement.matches(of: /\$[A-Za-z_]+/).map { String($0.output) }
        #expect(parameters == ["$rows"])
        #expect(!UserGraphWriter.statement.contains("'"))
        #expect(!UserGraphWriter.statement.contains("\""))
        let row = UserSyncRow(userID: "a", operation: .update, properties: ["username": "x'})"], sourceUpdatedAt: 5)
        #expect(row.parameter["props"]["username"] == "x'})")
        #expect(row.parameter["updated_at"] == 5)
        #expect(row.parameter["create"] == false)
    }
}

@Suite struct ValidationTests {
    @Test func findsPropertiesAndCountersThatDoNotMatch() {
        let row = UserSyncRow(
            userID: "a", operation: .update, properties: ["username": "x", "role": "user"], sourceUpdatedAt: nil)
        let good: [String: BoltValue] = [
            "user_id": "a", "username": "x", "role": "user", "following_number": 3.0, "followers_number": 0.0,
        ]
        #expect(UserSyncService.mismatches(row: row, node: good).isEmpty)
        var bad = good
        bad["role"] = "admin"
        bad["followers_number"] = 0
        #expect(UserSyncService.mismatches(row: row, node: bad) == ["role", "followers_number"])
        #expect(UserSyncService.mismatches(row: row, node: nil) == ["node"])
    }

    static let written = UserSyncRow(
        userID: "a", operation: .update, properties: ["username": "x", "role": "user"], sourceUpdatedAt: nil)
    static let asWritten: [String: BoltValue] = [
        "user_id": "a", "username": "x", "role": "user", "following_number": 0.0, "followers_number": 0.0,
    ]

    static func counts(_ metrics: TestMetrics) -> [String: Int] {
        var counts: [String: Int] = [:]
        for outcome in ["ok", "mismatch", "failed"] {
            let counters = metrics.counters.filter { $0.label == "sync.validation.\(outcome)" }
            #expect(counters.allSatisfy { $0.dimensions.map(\.0) == ["operation"] })
            counts[outcome] = counters.reduce(0) { $0 + Int($1.totalValue) }
        }
        return counts
    }

    @Test func aReadBackThatMatchesIsCountedAsOK() async {
        let metrics = TestMetrics()
        let outcome = await UserSyncService.validate(Self.written, logger: Logger(label: "test"), metrics: metrics) {
            #expect($0 == "a")
            return Self.asWritten
        }
        #expect(outcome == .matches)
        #expect(Self.counts(metrics) == ["ok": 1, "mismatch": 0, "failed": 0])
    }

    @Test func aNodeChangedBetweenWriteAndReadBackIsCountedAsAMismatch() async {
        let metrics = TestMetrics()
        // Another writer changed the role after our commit, before the read-back.
        var changed = Self.asWritten
        changed["role"] = "admin"
        let outcome = await UserSyncService.validate(Self.written, logger: Logger(label: "test"), metrics: metrics) {
            _ in changed
        }
        #expect(outcome == .differs(fields: ["role"]))
        #expect(Self.counts(metrics) == ["ok": 0, "mismatch": 1, "failed": 0])
        let counter = metrics.counters.first { $0.label == "sync.validation.mismatch" }
        #expect(counter?.dimensions.first?.1 == "updateUser")
    }

    @Test func aFailedReadBackIsCountedAsFailedNotAsOK() async {
        struct Unreachable: Error {}
        let metrics = TestMetrics()
        let outcome = await UserSyncService.validate(Self.written, logger: Logger(label: "test"), metrics: metrics) {
            _ in throw Unreachable()
        }
        #expect(outcome == .readFailed)
        #expect(Self.counts(metrics) == ["ok": 0, "mismatch": 0, "failed": 1])
    }
}
