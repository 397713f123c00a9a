import BoltClient
import Foundation
import Logging
import Messaging
import Metrics
import ServiceLifecycle

/// The graph sync flow: validates `create_user_request` / `update_user_request` payloads, writes them
/// through the batcher, classifies failures for the consumer (transient: retry; permanent: dead
/// letter with the reason or the Neo4j code) and records the metrics of COMPAT.md 6.
///
/// A `Service`: ``run()`` runs the batcher's loop, which writes what ``handle(_:operation:)``
/// submits. Run it before the consumer that calls the handlers (in a `ServiceGroup`: earlier in the
/// list), so that at shutdown the consumer stops first and the batcher writes what is pending.
public struct UserSyncService: Service, Sendable {
    public static let queue = "neo4j_sync_queue"

    public let writer: UserGraphWriter
    let batcher: SyncBatcher
    let logger: Logger
    /// Read each written node back and count the outcome (`sync.validation.ok|mismatch|failed`).
    let validate: Bool

    /// `batchSize` 1 writes every message alone; larger sizes group messages arriving within `batchWait`.
    /// `validate` reads every created or updated node back and compares it with the message.
    public init(
        writer: UserGraphWriter, batchSize: Int = 50, batchWait: Duration = .milliseconds(10), validate: Bool = false,
        logger: Logger
    ) {
        self.validate = validate
        self.writer = writer
        self.batcher = SyncBatcher(maximumSize: batchSize, maximumWait: batchWait) { rows in
            try await writer.apply(rows)
        }
        self.logger = logger
    }

    /// Runs the batcher until graceful shutdown (writing what is pending) or cancellation.
    public func run() async {
        await self.batcher.run()
    }

    /// The consumer's handlers for both patterns.
    public var handlers: [MessageHandler] {
        [UserSyncOperation.create, .update].map { operation in
            MessageHandler(
                pattern: "\(operation.rawValue)_user_request",
                payload: UserDocument.self,
                messageType: { _ in "\(operation.rawValue)_user" },
                body: { document, _ in try await self.handle(document, operation: operation) }
            )
        }
    }

    /// Applies one message; returns the outcome once it is committed.
    ///
    /// - Throws: ``MessageHandlingError``: permanent for an invalid document or a Neo4j client error,
    ///   transient for an unreachable server or a `Neo.TransientError`.
    @discardableResult
    public func handle(_ document: UserDocument, operation: UserSyncOperation) async throws -> UserSyncOutcome {
        let start = ContinuousClock.now
        let row: UserSyncRow
        do throws(UserMapping.Invalid) {
            row = try UserMapping.row(from: document, operation: operation)
        } catch {
            UserSyncMetrics.failed(operation: operation, since: start)
            throw MessageHandlingError.permanent("invalid user document: \(error.reason)")
        }
        do {
            let outcome = try await self.batcher.submit(row)
            UserSyncMetrics.succeeded(operation: operation, outcome: outcome, since: start)
            if outcome == .stale {
                self.logger.info("stale update ignored", metadata: ["user_id": "\(row.userID)"])
            }
            if self.validate, outcome == .created || outcome == .updated {
                await self.validateWrite(row)
            }
            return outcome
        } catch {
            UserSyncMetrics.failed(operation: operation, since: start)
            throw Self.classify(error)
        }
    }

    /// The seed's optional step 8: the node must hold what was written and Float counters. Every
    /// read-back is counted once, by its outcome (`sync.validation.ok`, `sync.validation.mismatch`,
    /// `sync.validation.failed`); a difference or a failed read is logged, never fails the message.
    func validateWrite(_ row: UserSyncRow) async {
        await Self.validate(row, logger: self.logger) { try await self.writer.node(of: $0) }
    }

    /// What a read-back found.
    enum Validation: Equatable {
        case matches
        case differs(fields: [String])
        case readFailed
    }

    /// Reads the node of `row` with `read`, compares and counts the outcome with `metrics`.
    @discardableResult
    static func validate(
        _ row: UserSyncRow,
        logger: Logger,
        metrics: any MetricsFactory = MetricsSystem.factory,
        read: (String) async throws -> [String: BoltValue]?
    ) async -> Validation {
        let dimensions = [("operation", row.operation.metricOperation)]
        let mismatches: [String]
        do {
            mismatches = Self.mismatches(row: row, node: try await read(row.userID))
        } catch {
            logger.warning("validation read failed", metadata: ["user_id": "\(row.userID)", "error": "\(error)"])
            Counter(label: "sync.validation.failed", dimensions: dimensions, factory: metrics).increment()
            return .readFailed
        }
        guard !mismatches.isEmpty else {
            Counter(label: "sync.validation.ok", dimensions: dimensions, factory: metrics).increment()
            return .matches
        }
        logger.warning(
            "the node differs from the message just written",
            metadata: ["user_id": "\(row.userID)", "fields": "\(mismatches.joined(separator: ","))"])
        Counter(label: "sync.validation.mismatch", dimensions: dimensions, factory: metrics).increment()
        return .differs(fields: mismatches)
    }

    /// The properties of `row` the node does not hold, plus counters that are missing or not Floats.
    static func mismatches(row: UserSyncRow, node: [String: BoltValue]?) -> [String] {
        guard let node else { return ["node"] }
        var fields = row.properties.keys.sorted().filter { node[$0] != .string(row.properties[$0] ?? "") }
        for counter in ["following_number", "followers_number"] {
            if case .float = node[counter] { continue }
            fields.append(counter)
        }
        return fields
    }

    /// Neo4j errors to the consumer's dispositions. A uniqueness violation from the sync's own MERGE
    /// can only be a concurrent create of the same user by another instance: retried, after which the
    /// MERGE matches.
    static func classify(_ error: any Error) -> MessageHandlingError {
        guard let bolt = error as? BoltError else {
            return .transient("graph write failed: \(error)")
        }
        if bolt.isRetryable || bolt.code == "Neo.ClientError.Schema.ConstraintValidationFailed" {
            return .transient("Neo4j \(bolt.code ?? "\(bolt.kind)"): \(bolt.message)")
        }
        return .permanent("Neo4j \(bolt.code ?? "\(bolt.kind)"): \(bolt.message)")
    }
}

/// The `sync.*` metrics of COMPAT.md 6 (no `user_id` tag).
enum UserSyncMetrics {
    static func succeeded(operation: UserSyncOperation, outcome: UserSyncOutcome, since start: ContinuousClock.Instant)
    {
        // An update that had to create the node counts under the create names, as in the original.
        let counted: UserSyncOperation = outcome == .created ? .create : operation
        let status: String
        let syncType: String?
        switch outcome {
        case .created, .updated:
            status = "success"
            syncType = counted == .create ? "user_creation" : "user_update"
        case .alreadyExists:
            status = "already_exists"
            syncType = nil
        case .stale:
            status = "stale"
            syncType = nil
        }
        var dimensions = [("operation", counted.metricOperation), ("status", status)]
        if let syncType { dimensions.append(("sync_type", syncType)) }
        Counter(label: counted == .create ? "sync.user.created" : "sync.user.updated", dimensions: dimensions)
            .increment()
        Timer(label: "sync.duration", dimensions: dimensions).record(duration: .now - start)
    }

    static func failed(operation: UserSyncOperation, since start: ContinuousClock.Instant) {
        let dimensions = [("operation", operation.metricOperation), ("status", "failed")]
        Counter(label: operation == .create ? "sync.user.created" : "sync.user.updated", dimensions: dimensions)
            .increment()
        Counter(label: "sync.errors", dimensions: [("operation", operation.metricOperation)]).increment()
        Timer(label: "sync.duration", dimensions: dimensions).record(duration: .now - start)
    }
}
