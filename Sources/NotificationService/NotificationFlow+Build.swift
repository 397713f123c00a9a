import FlowKit
import HTTPServerLimits
import Hummingbird
import HummingbirdCore
import Logging
import Messaging
import MongoStore
import Observability
import RedisClient
import SocketIO

extension NotificationFlow {
    /// The notification service's parts: its Redis client (presence, cross-instance emits), the
    /// Socket.IO server, this flow consuming `notification_queue`, the REST routes and the
    /// Socket.IO routes, and the readiness checks of each.
    ///
    /// - Throws: when a URI cannot be used or MongoDB is not configured.
    public static func build(configuration: NotificationConfiguration, dependencies: FlowDependencies) throws
        -> FlowParts
    {
        guard let mongo = dependencies.mongo else {
            throw FlowConfigurationError("the notification service needs MongoDB (MONGO_URI)")
        }
        let logger = Logger(label: "decode-async.notifications")
        let redis = RedisClient(
            configuration: try RedisConfiguration(uri: configuration.redisURI),
            logger: Logger(label: "decode-async.redis")
        )
        let verifier = AccessTokenVerifier(
            secret: configuration.jwtSecret, issuer: configuration.jwtIssuer, audience: configuration.jwtAudience)
        let sessions = try configuration.authServiceURL.map { url in
            guard let sessions = AuthServiceSessions(baseURL: url, logger: logger) else {
                throw FlowConfigurationError("AUTH_SERVICE_URL is not an http(s) URL")
            }
            return sessions
        }
        let server = NotificationGateway.makeServer(
            configuration: Self.socketConfiguration(configuration),
            verifier: verifier,
            redis: redis,
            presenceTTLSeconds: configuration.presenceTTLSeconds,
            sessionCheck: sessions?.socketCheck,
            logger: Logger(label: "decode-async.socket.io")
        )
        let store = try NotificationStore(
            client: mongo, redeliveryWindow: .seconds(configuration.redeliveryWindowSeconds))
        let delivery = NotificationDelivery(store: store, server: server, logger: logger)
        server.setDelegate(delivery)
        let flow = NotificationFlow(
            store: store,
            delivery: delivery,
            broker: dependencies.broker,
            consumer: .init(
                topology: QueueTopology(queue: configuration.queue),
                prefetch: configuration.prefetch,
                concurrency: configuration.concurrency,
                batchSize: configuration.batchSize
            ),
            logger: logger
        )
        let rest = NotificationRoutes(
            store: store, delivery: delivery, verifier: verifier, sessions: sessions,
            corsOrigin: configuration.frontendURL, logger: logger)
        let queue = configuration.queue
        let socketRoutes = SocketIORoutes(server: server)
        return FlowParts(
            services: [redis, server, flow],
            checks: [dependencies.mongoCheck()].compactMap { $0 } + [
                ReadinessCheck.shared(name: "redis") { try await redis.ping() },
                ReadinessCheck(name: "socket.io") {
                    guard server.isReady else {
                        throw ReadinessFailure("not subscribed to other instances' room emits yet")
                    }
                },
                ReadinessCheck(name: "consumer") {
                    guard flow.isReady else { throw ReadinessFailure("not consuming \(queue) yet") }
                },
            ],
            routes: [rest, socketRoutes],
            httpServer: socketRoutes.httpServer
        )
    }

    /// The Socket.IO server's settings: CORS, the per-socket event rate (bursts up to twice
    /// `SOCKET_EVENTS_PER_SECOND`), the event size limit and this instance's id.
    public static func socketConfiguration(_ configuration: NotificationConfiguration) -> SocketIOServerConfiguration {
        SocketIOServerConfiguration(
            corsOrigins: configuration.socketCORSOrigins,
            eventsPerSecond: configuration.socketEventsPerSecond,
            eventBurst: 2 * configuration.socketEventsPerSecond,
            maxEventBytes: configuration.socketMaxEventBytes,
            instanceID: configuration.instanceID
        )
    }
}

extension NotificationRoutes: RouteGroup {}

/// A Socket.IO server's polling routes and its port's HTTP server (with the WebSocket upgrade).
public struct SocketIORoutes: RouteGroup {
    let server: SocketIOServer

    public init(server: SocketIOServer) {
        self.server = server
    }

    /// The port's HTTP server under `limits`: Socket.IO's own child channel, which upgrades
    /// WebSockets to a synchronous pipeline and hands every other request to the router.
    public var httpServer: @Sendable (HTTPLimits) -> HTTPServerBuilder {
        { [server] limits in server.httpServer(limits: limits) }
    }

    /// `GET`/`POST`/`OPTIONS /socket.io/` (long-polling and its CORS preflight).
    public func register<Context: RequestContext>(on router: Router<Context>) {
        self.server.registerRoutes(on: router)
    }
}
