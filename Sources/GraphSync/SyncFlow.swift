import BoltClient
import FlowKit
import Logging
import Messaging
import MongoStore
import Observability

/// The graph sync flow's composition.
public enum SyncFlow {
    /// The sync's parts: the Bolt client, the sync service (its batcher's loop), the worker (the
    /// graph schema, then the `neo4j_sync_queue` consumer), in that order, so that at shutdown each
    /// stops after what uses it; the readiness of Neo4j and the consumer; `/sync/...`
    /// (``SyncHTTPRoutes``) when MongoDB and `SYNC_ADMIN_TOKEN` are configured.
    public static func build(configuration: SyncConfiguration, dependencies: FlowDependencies) throws -> FlowParts {
        let logger = Logger(label: "decode-async.sync")
        let bolt = BoltClient(
            configuration: try configuration.boltConfiguration(version: dependencies.version),
            logger: Logger(label: "decode-async.bolt"))
        let writer = UserGraphWriter(client: bolt, logger: logger)
        let service = UserSyncService(
            writer: writer, batchSize: configuration.batchSize, batchWait: configuration.batchWait,
            validate: configuration.validate, logger: logger)
        // Enough handlers in flight to fill a batch; the broker sends twice that ahead.
        let concurrency = max(10, configuration.batchSize)
        let consumer = QueueConsumer(
            configuration: .init(
                topology: QueueTopology(queue: UserSyncService.queue),
                prefetch: UInt16(min(concurrency * 2, Int(UInt16.max))),
                concurrency: concurrency
            ),
            client: dependencies.broker,
            handlers: service.handlers,
            logger: logger
        )
        let worker = QueueWorker(
            consumer: consumer, preparing: "graph schema", prepare: { try await writer.ensureSchema() },
            backoff: .init(first: .milliseconds(500)), logger: logger)
        var routes: [any RouteGroup] = []
        if let mongo = dependencies.mongo, let token = configuration.adminToken {
            routes.append(
                SyncHTTPRoutes(
                    writer: writer, source: MongoUserSource(collection: try mongo.collection("users")),
                    adminToken: token))
        } else {
            logger.notice("the /sync endpoints are off (they need MONGO_URI and SYNC_ADMIN_TOKEN)")
        }
        return FlowParts(
            services: [bolt, service, worker],
            checks: [dependencies.mongoCheck()].compactMap { $0 } + [
                ReadinessCheck.shared(name: "neo4j") { try await bolt.verifyConnectivity() },
                ReadinessCheck(name: "consumer") {
                    guard consumer.isReady else {
                        throw ReadinessFailure("not consuming \(UserSyncService.queue) yet")
                    }
                },
            ],
            routes: routes)
    }
}

extension SyncHTTPRoutes: RouteGroup {}
