import AMQPClient
import Foundation
import HTTPServerLimits
import Hummingbird
import HummingbirdCore
import Logging
import Messaging
import MongoStore
import NotificationService
import Observability
import RedisClient
import ServiceLifecycle
import SocketIO

/// The notification service's parts: Redis (presence, cross-instance emits), the Socket.IO server,
/// the delivery flow consuming `notification_queue`, and the REST routes.
struct NotificationWiring {
    var services: [any Service]
    var checks: [ReadinessCheck]
    var routes: @Sendable (Router<ServiceHost.Context>) -> Void
    /// The HTTP server with Socket.IO's WebSocket upgrade.
    var httpServer: @Sendable (HTTPLimits) -> HTTPServerBuilder

    /// The Socket.IO server's settings: CORS, the per-socket event rate (bursts up to twice
    /// `SOCKET_EVENTS_PER_SECOND`), the event size limit and this instance's id.
    static func socketConfiguration(_ configuration: NotificationConfiguration) -> SocketIOServerConfiguration {
        SocketIOServerConfiguration(
            corsOrigins: configuration.socketCORSOrigins,
            eventsPerSecond: configuration.socketEventsPerSecond,
            eventBurst: 2 * configuration.socketEventsPerSecond,
            maxEventBytes: configuration.socketMaxEventBytes,
            instanceID: configuration.instanceID
        )
    }

    init(configuration: NotificationConfiguration, broker: AMQPClient, mongo: MongoClient, logger: Logger) throws {
        let redis = RedisClient(
            configuration: try RedisConfiguration(uri: configuration.redisURI),
            logger: Logger(label: "decode-async.redis")
        )
        let verifier = AccessTokenVerifier(
            secret: configuration.jwtSecret, issuer: configuration.jwtIssuer, audience: configuration.jwtAudience)
        let sessions = try configuration.authServiceURL.map { url in
            guard let sessions = AuthServiceSessions(baseURL: url, logger: logger) else {
                throw ConfigurationProblem("AUTH_SERVICE_URL is not an http(s) URL")
            }
            return sessions
        }
        let server = SocketIOServer(
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
            broker: broker,
            consumer: .init(
                topology: QueueTopology(queue: NotificationFlow.queue),
                prefetch: configuration.prefetch,
                concurrency: configuration.concurrency,
                batchSize: configuration.batchSize
            ),
            logger: Logger(label: "decode-async.notifications")
        )
        let rest = NotificationRoutes(
            store: store, delivery: delivery, verifier: verifier, sessions: sessions,
            corsOrigin: configuration.frontendURL,
            logger: logger)
        self.services = [redis, server, flow]
        self.checks = [
            ReadinessCheck.shared(name: "redis") { try await redis.ping() },
            ReadinessCheck(name: "socket.io") {
                guard server.isReady else {
                    throw ReadinessFailure("not subscribed to other instances' room emits yet")
                }
            },
            ReadinessCheck(name: "consumer") {
                guard flow.isReady else { throw ReadinessFailure("not consuming \(NotificationFlow.queue) yet") }
            },
        ]
        self.routes = { router in
            rest.register(on: router)
            server.registerRoutes(on: router)
        }
        self.httpServer = { limits in server.httpServer(limits: limits) }
    }
}

/// A setting that passed parsing but cannot be used.
struct ConfigurationProblem: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
