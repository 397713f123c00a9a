import AMQPClient
import BoltClient
import Console
import GraphSync
import Hummingbird
import Logging
import MongoStore
import Observability
import RedisClient
import ServiceLifecycle

/// The operations console for `serve console`: its routes on the console's own port, and the
/// clients it reads with (the process's broker and MongoDB, its own Redis and Bolt clients).
struct ConsoleFlow {
    var routes: @Sendable (Router<ServiceHost.Context>) -> Void
    var services: [any Service]
}

extension Runtime {
    func makeConsoleFlow(broker: AMQPClient, mongo: MongoClient?) throws -> ConsoleFlow? {
        guard let console = self.configuration.console else { return nil }
        let logger = Logger(label: "decode-async.console")
        var services: [any Service] = []
        let redis = try console.redisURI.map { RedisClient(configuration: try RedisConfiguration(uri: $0)) }
        var bolt: BoltClient?
        var graph: ConsoleData.Graph?
        if let settings = console.graph, let mongo {
            let client = BoltClient(
                configuration: try BoltConfiguration(
                    uri: settings.uri, username: settings.user, password: settings.password,
                    database: settings.database, userAgent: "decode-async/\(Runtime.version)"),
                logger: Logger(label: "decode-async.bolt"))
            bolt = client
            graph = ConsoleData.Graph(
                source: MongoUserSource(collection: try mongo.collection("users")),
                writer: UserGraphWriter(client: client, logger: logger))
        }
        let management = console.managementURI.flatMap { ManagementAPI(uri: $0) }
        if management == nil {
            logger.notice(
                "console: RABBITMQ_MANAGEMENT_URI is not set; unacknowledged counts and rates are not shown")
        }
        let data = ConsoleData(
            broker: broker, queues: console.queues, management: management, redis: redis, mongo: mongo, graph: graph,
            logger: logger)
        let routes = try ConsoleRoutes(token: console.token, data: data, logger: logger)
        // The Bolt client is a service of its own; the Redis client is only closed (its `run()`
        // would keep a subscriber connection the console does not need).
        services += [bolt].compactMap { $0 } + [ConsoleRedis(redis: redis)]
        return ConsoleFlow(routes: { router in routes.register(on: router) }, services: services)
    }

    /// The Redis every flow of this process counts its throughput into, when it knows one.
    var throughputRedisURI: String? {
        self.configuration.notifications?.redisURI ?? self.configuration.email?.redisURI
            ?? self.configuration.console?.redisURI
    }
}

/// Closes the console's Redis client at shutdown.
struct ConsoleRedis: Service {
    let redis: RedisClient?

    func run() async throws {
        try? await gracefulShutdown()
        self.redis?.shutdown()
    }
}
