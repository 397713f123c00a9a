import AMQPClient
import ArgumentParser
import BoltClient
import Foundation
import GraphSync
import Logging
import Messaging
import MongoStore
import Observability

/// `decode-async sync users|check`: bulk resync and consistency check between MongoDB `users` and
/// the `:User` nodes, with the sync service's settings (`NEO4J_*`, `MONGO_URI`, `MONGO_DB_NAME`).
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Resync users from MongoDB into Neo4j, or compare the two.",
        subcommands: [SyncUsersCommand.self, SyncCheckCommand.self]
    )
}

struct SyncUsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Write MongoDB users to the graph in UNWIND batches (missing nodes created, the rest updated)."
    )

    @Flag(help: "Every user in MongoDB.")
    var all = false

    @Option(name: .customLong("id"), help: "A user id (24 hex characters); repeat for several.")
    var ids: [String] = []

    @Option(help: "Users per transaction.")
    var batchSize = 500

    func validate() throws {
        guard self.all != !self.ids.isEmpty else { throw ValidationError("give either --all or one or more --id") }
        guard (1...10_000).contains(self.batchSize) else { throw ValidationError("--batch-size: 1 to 10000") }
    }

    func run() async throws {
        let report = try await SyncSession.run { session in
            let total = self.all ? Int(try await session.source.count()) : self.ids.count
            let bulk = BulkSync(source: session.source, writer: session.writer, batchSize: self.batchSize)
            let report = try await bulk.run(ids: self.all ? nil : self.ids) { report in
                SyncSession.progress(done: report.read, total: total)
            }
            SyncSession.endProgress()
            return report
        }
        for invalid in report.invalid {
            printError("skipped \(invalid.id): \(invalid.reason)")
        }
        print(
            "synced \(report.read - report.invalid.count) of \(report.read) users: \(report.created) created, "
                + "\(report.updated) updated, \(report.stale) stale (newer in the graph), \(report.invalid.count) invalid"
        )
        if self.all == false, report.read < self.ids.count {
            printError("\(self.ids.count - report.read) of the given ids are not in MongoDB")
        }
        if !report.invalid.isEmpty { throw ExitCode.failure }
    }
}

struct SyncCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Compare MongoDB users with their nodes (username, role, display_name, avatar_ipfs_hash).",
        discussion: """
            Prints each difference; exits 1 when there is any, unless --fix emitted an \
            update_user_request to neo4j_sync_queue for each (the running sync applies them).
            """
    )

    @Flag(help: "Emit update_user_request for each user that differs.")
    var fix = false

    func run() async throws {
        let (differences, repairs) = try await SyncSession.run { session in
            let total = Int(try await session.source.count())
            let check = ConsistencyCheck(source: session.source, writer: session.writer)
            var checked = 0
            let differences = try await check.run { count in
                checked = count
                SyncSession.progress(done: count, total: total)
            }
            SyncSession.endProgress()
            let repairs = self.fix ? try await check.repairMessages(for: differences) : []
            let record = SyncCheckRecord(
                checkedAt: Date(), checkedUsers: checked, differences: differences,
                repairsEmitted: self.fix && !differences.isEmpty ? repairs.count : nil, ranBy: "cli")
            try? await record.save(in: session.mongo)
            return (differences, repairs)
        }
        for difference in differences {
            print(difference.description)
        }
        print(differences.isEmpty ? "MongoDB and the graph agree" : "\(differences.count) users differ")
        guard !differences.isEmpty else { return }
        guard self.fix else { throw ExitCode.failure }
        do {
            _ = try await BrokerSession.run(bootstrapLogging: false) { client in
                try await ConsistencyCheck.emitRepairs(repairs, client: client)
            }
        } catch let error as ExitCodeError {
            throw ExitCode(error.code)
        }
        print("emitted \(repairs.count) update_user_request to \(UserSyncService.queue)")
        if repairs.count < differences.count { throw ExitCode.failure }
    }
}

/// The clients a sync command needs, built from the sync service's configuration and closed after.
struct SyncSession {
    var source: MongoUserSource
    var writer: UserGraphWriter
    var mongo: MongoClient

    static func run<Result: Sendable>(_ body: (SyncSession) async throws -> Result) async throws -> Result {
        let configuration: DecodeAsyncConfiguration
        do {
            configuration = try DecodeAsyncConfiguration.load(
                from: try await ConfigurationSource.reader(), services: [.sync])
        } catch let error as ConfigurationErrors {
            for line in error.errors {
                printError("decode-async: configuration: \(line)")
            }
            throw ExitCode(78)
        }
        LoggingBootstrap.bootstrap(format: configuration.shared.logFormat, level: .warning)
        guard let sync = configuration.sync, let mongo = configuration.mongo else {
            printError("decode-async: configuration: MONGO_URI is required for sync commands")
            throw ExitCode(78)
        }
        let logger = Logger(label: "decode-async.sync")
        let bolt = BoltClient(configuration: try sync.boltConfiguration(version: Runtime.version), logger: logger)
        let client = try MongoClient(uri: mongo.uri, database: mongo.database, threads: mongo.threads)
        let writer = UserGraphWriter(client: bolt, logger: logger)
        let session = SyncSession(
            source: MongoUserSource(collection: try client.collection("users")), writer: writer, mongo: client)
        do {
            try await writer.ensureSchema()
            let result = try await body(session)
            await bolt.shutdown()
            try? await client.shutdown()
            return result
        } catch {
            await bolt.shutdown()
            try? await client.shutdown()
            if error is ExitCode { throw error }
            printError("decode-async sync: \(error)")
            throw ExitCode.failure
        }
    }

    /// A one-line progress bar on standard error.
    static func progress(done: Int, total: Int) {
        let width = 30
        let filled = total > 0 ? min(width, done * width / total) : width
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        FileHandle.standardError.write(Data("\r[\(bar)] \(done)/\(total)".utf8))
    }

    static func endProgress() {
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
