import Foundation
import HTTPServerLimits
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NotificationService
import RedisClient
import SocketIO

/// Records what a gateway's application side saw, and answers the events the peer sends.
final class RecordingDelegate: SocketIOServerDelegate {
    let authenticated = Recorder<String>()
    let events = Recorder<(String, [JSONValue])>()
    let deliveries = Recorder<(RoomEmit, Int)>()
    let acks = Recorder<(RoomEmit, String, [JSONValue])>()

    func socketAuthenticated(_ socket: SocketIOSocket, userID: String) async {
        await self.authenticated.append(userID)
    }

    func socket(_ socket: SocketIOSocket, userID: String, event: String, arguments: [JSONValue]) async
        -> [JSONValue]?
    {
        await self.events.append((event, arguments))
        switch event {
        case "mark_notification_read": return [.object(["ok": .bool(true), "user": .string(userID)])]
        case "echo": return arguments
        default: return nil
        }
    }

    func roomEmitDelivered(_ emit: RoomEmit, sockets: Int) async {
        await self.deliveries.append((emit, sockets))
    }

    func roomEmitAcknowledged(_ emit: RoomEmit, userID: String, reply: [JSONValue]) async {
        await self.acks.append((emit, userID, reply))
    }
}

/// Socket.IO gateways on ephemeral ports (Hummingbird with the WebSocket upgrade), sharing the
/// local Redis as separate instances would.
struct GatewayHarness {
    static let secret = "integration-access-secret"
    static var signer: AccessTokenSigner { AccessTokenSigner(secret: Self.secret) }

    struct Gateway: Sendable {
        var server: SocketIOServer
        var delegate: RecordingDelegate
        var url: String
    }

    static func run(
        instances: Int = 1,
        pingInterval: Duration = .seconds(1),
        // Pings every second (sessions in the tests outlive several), with a generous pong deadline:
        // under a loaded CI machine a starved Python client may answer late.
        pingTimeout: Duration = .seconds(15),
        _ body: @Sendable ([Gateway]) async throws -> Void
    ) async throws {
        let redis = RedisClient(configuration: try RedisConfiguration(uri: RedisIntegrationTests.uri))
        defer { redis.shutdown() }
        let bus = TestEnvironment.uniqueName("test.socket.io.bus")
        var gateways: [(Gateway, Application<RouterResponder<BasicWebSocketRequestContext>>, PortBox)] = []
        for index in 0..<instances {
            let configuration = SocketIOServerConfiguration(
                pingInterval: pingInterval,
                pingTimeout: pingTimeout,
                instanceID: TestEnvironment.uniqueName("gw\(index)"),
                busChannel: bus
            )
            let server = NotificationGateway.makeServer(
                configuration: configuration,
                verifier: AccessTokenVerifier(secret: Self.secret),
                redis: redis,
                presenceTTLSeconds: 30,
                logger: Logger(label: "test.socket.io.\(index)")
            )
            let delegate = RecordingDelegate()
            server.setDelegate(delegate)
            let port = PortBox()
            let application = Self.application(serving: server, port: port)
            gateways.append((Gateway(server: server, delegate: delegate, url: ""), application, port))
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await redis.run() }
            for (gateway, application, _) in gateways {
                group.addTask { try await gateway.server.run() }
                group.addTask { try await application.runService(gracefulShutdownSignals: []) }
            }
            var ready: [Gateway] = []
            for (gateway, _, port) in gateways {
                try await eventually("the gateway listens") { await port.value != 0 }
                try await eventually("the bus subscription is confirmed") { gateway.server.isReady }
                var gateway = gateway
                gateway.url = "http://127.0.0.1:\(await port.value)"
                ready.append(gateway)
            }
            defer { group.cancelAll() }
            try await body(ready)
        }
    }
}

extension GatewayHarness {
    /// An HTTP server on an ephemeral port (reported to `port`) serving the Socket.IO routes, the
    /// WebSocket upgrade and `routes`.
    static func application(
        serving server: SocketIOServer,
        port: PortBox,
        routes: (Router<BasicWebSocketRequestContext>) -> Void = { _ in }
    ) -> Application<RouterResponder<BasicWebSocketRequestContext>> {
        let router = Router(context: BasicWebSocketRequestContext.self)
        routes(router)
        server.registerRoutes(on: router)
        return Application(
            router: router,
            server: server.httpServer(limits: HTTPLimits()),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in await port.set(channel.localAddress?.port ?? 0) },
            logger: Self.quietLogger
        )
    }

    /// Hummingbird logs its cancellation at shutdown as errors; the tests cancel on purpose.
    static var quietLogger: Logger {
        var logger = Logger(label: "test.http")
        logger.logLevel = .critical
        return logger
    }
}

actor PortBox {
    private(set) var value = 0
    func set(_ port: Int) { self.value = port }
}
