import AMQPClient
import BoltClient
import FlowKit
import GraphSync
import Hummingbird
import Logging
import MongoStore
import Observability
import RedisClient
import ServiceLifecycle

/// The operations console's composition.
public enum ConsoleFlow {
    /// The console's parts: its routes on the console's own port, and the clients it reads with
    /// (the process's broker and MongoDB, its own Redis and Bolt clients).
    public static func build(configuration: ConsoleConfiguration, dependencies: FlowDependencies) throws -> FlowParts {
        let logger = Logger(label: "decode-async.console")
        let redis = try configuration.redisURI.map { RedisClient(configuration: try RedisConfiguration(uri: $0)) }
        var bolt: BoltClient?
        var graph: ConsoleData.Graph?
        if let settings = configuration.graph, let mongo = dependencies.mongo {
            let client = BoltClient(
                configuration: try BoltConfiguration(
                    uri: settings.uri, username: settings.user, password: settings.password,
                    database: settings.database, userAgent: "decode-async/\(dependencies.version)"),
                logger: Logger(label: "decode-async.bolt"))
            bolt = client
            graph = ConsoleData.Graph(
                source: MongoUserSource(collection: try mongo.collection("users")),
                writer: UserGraphWriter(client: client, logger: logger))
        }
        let management = configuration.managementURI.flatMap { ManagementAPI(uri: $0) }
        if management == nil {
            logger.notice(
                "console: RABBITMQ_MANAGEMENT_URI is not set; unacknowledged counts and rates are not shown")
        }
        let data = ConsoleData(
            broker: dependencies.broker, queues: configuration.queues, management: management, redis: redis,
            mongo: dependencies.mongo, graph: graph, logger: logger)
        let routes = try ConsoleRoutes(
            token: configuration.token, data: data, logger: logger,
            hosts: ConsoleHostPolicy(
                bindHost: configuration.http.host, port: configuration.http.port, allowed: configuration.allowedHosts),
            secureCookie: configuration.secureCookie)
        // The Bolt client is a service of its own; the Redis client is only closed (its `run()`
        // would keep a subscriber connection the console does not need).
        let services: [any Service] = [bolt].compactMap { $0 } + [ConsoleRedis(redis: redis)]
        return FlowParts(services: services, routes: [routes])
    }
}

extension ConsoleRoutes: RouteGroup {}

/// Closes the console's Redis client at shutdown.
struct ConsoleRedis: Service {
    let redis: RedisClient?

    func run() async throws {
        try? await gracefulShutdown()
        self.redis?.shutdown()
    }
}
