import AMQPClient
import BoltClient
import GraphSync
import Hummingbird
import Logging
import Messaging
import MongoStore
import Observability
import ServiceLifecycle

/// The graph sync flow for `serve sync`: a Bolt client, the sync service, its queue consumer, and
/// the readiness checks of its dependencies.
struct SyncFlow {
    /// In group order: the Bolt client, the sync service (its batcher's loop), the worker (schema,
    /// then the consumer); shutdown runs in reverse, so each stops after what uses it.
    var services: [any Service]
    var checks: [ReadinessCheck]
    /// `/sync/...` (SyncHTTPRoutes), when MongoDB and `SYNC_ADMIN_TOKEN` are configured.
    var routes: (@Sendable (Router<ServiceHost.Context>) -> Void)?
}

extension Runtime {
    func makeSyncFlow(broker: AMQPClient, mongo: MongoClient?) throws -> SyncFlow? {
        guard let sync = self.configuration.sync else { return nil }
        let logger = Logger(label: "decode-async.sync")
        let bolt = BoltClient(configuration: try sync.boltConfiguration(), logger: Logger(label: "decode-async.bolt"))
        let writer = UserGraphWriter(client: bolt, logger: logger)
        let service = UserSyncService(
            writer: writer, batchSize: sync.batchSize, batchWait: sync.batchWait, validate: sync.validate,
            logger: logger)
        // Enough handlers in flight to fill a batch; the broker sends twice that ahead.
        let concurrency = max(10, sync.batchSize)
        let consumer = QueueConsumer(
            configuration: .init(
                topology: QueueTopology(queue: UserSyncService.queue),
                prefetch: UInt16(min(concurrency * 2, Int(UInt16.max))),
                concurrency: concurrency
            ),
            client: broker,
            handlers: service.handlers,
            logger: logger
        )
        let checks = [
            ReadinessCheck.shared(name: "neo4j") { try await bolt.verifyConnectivity() },
            ReadinessCheck(name: "consumer") {
                guard consumer.isReady else { throw ReadinessFailure("not consuming \(UserSyncService.queue) yet") }
            },
        ]
        var routes: (@Sendable (Router<ServiceHost.Context>) -> Void)?
        if let mongo, let token = sync.adminToken {
            let http = SyncHTTPRoutes(
                writer: writer, source: MongoUserSource(collection: try mongo.collection("users")), adminToken: token)
            routes = { router in http.register(on: router) }
        } else {
            logger.notice("the /sync endpoints are off (they need MONGO_URI and SYNC_ADMIN_TOKEN)")
        }
        return SyncFlow(
            services: [bolt, service, SyncWorker(writer: writer, consumer: consumer, logger: logger)],
            checks: checks, routes: routes)
    }
}

extension SyncConfiguration {
    func boltConfiguration() throws -> BoltConfiguration {
        try BoltConfiguration(
            uri: self.neo4jURI, username: self.neo4jUser, password: self.neo4jPassword, database: self.neo4jDatabase,
            userAgent: "decode-async/\(Runtime.version)")
    }
}

/// Sets up the graph schema (retrying until Neo4j answers), then consumes.
struct SyncWorker: Service {
    let writer: UserGraphWriter
    let consumer: QueueConsumer
    let logger: Logger

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                var delay = Duration.milliseconds(500)
                while true {
                    do {
                        try await self.writer.ensureSchema()
                        return
                    } catch {
                        self.logger.warning("graph schema not set up yet; retrying", metadata: ["error": "\(error)"])
                        try await Task.sleep(for: delay)
                        delay = min(delay * 2, .seconds(10))
                    }
                }
            }
        } catch is CancellationError {
            return
        }
        try await self.consumer.run()
    }
}
