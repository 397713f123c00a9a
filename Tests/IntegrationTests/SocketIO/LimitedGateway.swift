import HTTPServerLimits
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOConcurrencyHelpers
import NotificationService
import RedisClient
import SocketIO

/// One Socket.IO gateway served as `decode-async serve` serves it: Hummingbird with the WebSocket
/// upgrade and ``HTTPLimits``, on an ephemeral port, with presence in the Redis at `redisURI`.
struct LimitedGateway {
    var server: SocketIOServer
    var redis: RedisClient
    var port: Int

    static func run(
        redisURI: String,
        limits: HTTPLimits = HTTPLimits(),
        pingInterval: Duration = .seconds(25),
        presenceTTLSeconds: Int = 90,
        redisConfiguration: (inout RedisConfiguration) -> Void = { _ in },
        httpLogs: LogRecorder? = nil,
        _ body: @Sendable (LimitedGateway) async throws -> Void
    ) async throws {
        var configuration = try RedisConfiguration(uri: redisURI)
        redisConfiguration(&configuration)
        let redis = RedisClient(configuration: configuration, logger: GatewayHarness.quietLogger)
        defer { redis.shutdown() }
        let server = NotificationGateway.makeServer(
            configuration: SocketIOServerConfiguration(
                pingInterval: pingInterval,
                pingTimeout: .seconds(60),
                instanceID: TestEnvironment.uniqueName("limited"),
                busChannel: TestEnvironment.uniqueName("test.socket.io.bus")
            ),
            verifier: AccessTokenVerifier(secret: GatewayHarness.secret),
            redis: redis,
            presenceTTLSeconds: presenceTTLSeconds,
            logger: GatewayHarness.quietLogger
        )
        let router = Router(context: BasicWebSocketRequestContext.self)
        router.get("/health") { _, _ in "ok" }
        server.registerRoutes(on: router)
        let port = PortBox()
        let application = Application(
            router: router,
            server: server.httpServer(limits: limits),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in await port.set(channel.localAddress?.port ?? 0) },
            logger: httpLogs?.logger ?? GatewayHarness.quietLogger
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await redis.run() }
            group.addTask { try await server.run() }
            group.addTask { try await application.runService(gracefulShutdownSignals: []) }
            defer { group.cancelAll() }
            try await eventually("the gateway listens") { await port.value != 0 }
            // Subscribed to the bus: the subscriber connection is up (its first presence rewrite,
            // of no sockets yet, cannot overlap what a test writes later).
            try await eventually("the bus subscription is confirmed") { server.isReady }
            try await body(LimitedGateway(server: server, redis: redis, port: await port.value))
        }
    }

    /// A WebSocket Socket.IO client connected to `/notifications` as `userID`: returns the
    /// connection after `user_connected`.
    func connectWebSocketClient(userID: String) async throws -> RawConnection {
        let connection = try await RawConnection.connect(port: self.port)
        try await connection.upgradeToWebSocket(path: "/socket.io/?EIO=4&transport=websocket")
        let open = try await connection.receiveWebSocketText()
        guard open.hasPrefix("0{") else { throw RawConnection.WebSocketFailure(what: "no open packet: \(open)") }
        let token = GatewayHarness.signer.token(userID: userID)
        try await connection.sendWebSocketText("40/notifications,{\"token\":\"\(token)\"}")
        var seen: [String] = []
        try await eventually("user_connected") {
            if let message = try? await connection.receiveWebSocketText(timeout: .milliseconds(100)) {
                seen.append(message)
            }
            return seen.contains { $0.contains("user_connected") }
        }
        return connection
    }
}

/// Every record logged through ``logger`` (all levels), for tests that check what a server logs.
final class LogRecorder: Sendable {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
    }

    private let records = NIOLockedValueBox<[Record]>([])

    var logger: Logger {
        Logger(label: "test.recorded") { _ in Handler(recorder: self) }
    }

    var all: [Record] { self.records.withLockedValue { $0 } }

    private struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { self.metadata[key] }
            set { self.metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            self.recorder.records.withLockedValue {
                $0.append(Record(level: event.level, message: "\(event.message)"))
            }
        }
    }
}
