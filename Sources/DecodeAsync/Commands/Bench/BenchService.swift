import AMQPClient
import Foundation
import HTTPServerLimits
import Hummingbird
import HummingbirdWebSocket
import Logging
import Messaging
import MongoStore
import NIOConcurrencyHelpers
import NotificationService
import RedisClient
import ServiceLifecycle
import SocketIO

/// An in-process notification service for the benchmarks: Socket.IO on an ephemeral port with
/// Redis presence, and optionally the delivery flow on its own queue and database, configured as
/// production runs it (prefetch 250, 4 batches in flight, batches of up to 100).
struct BenchService {
    let url: String
    let server: SocketIOServer
    let signer: AccessTokenSigner

    /// The delivery flow's own queue and database, and the clients it runs on.
    struct Flow: Sendable {
        let queue: String
        let broker: AMQPClient
        let mongo: MongoClient
    }

    static func run(
        flow: (queue: String, database: String)?,
        secret: String = UUID().uuidString,
        _ body: @Sendable (BenchService, Flow?) async throws -> Void
    ) async throws {
        var quiet = Logger(label: "bench")
        quiet.logLevel = .error
        let environment = ProcessInfo.processInfo.environment
        let redis = RedisClient(
            configuration: try RedisConfiguration(uri: environment["REDIS_URI"] ?? "redis://127.0.0.1:6379"),
            logger: quiet)
        let server = SocketIOServer(
            configuration: SocketIOServerConfiguration(
                instanceID: "bench-\(secret.prefix(8))", busChannel: "bench.socket.io.\(secret.prefix(8))"),
            verifier: AccessTokenVerifier(secret: secret),
            redis: redis,
            logger: quiet
        )
        var services: [any Service] = [redis, server]
        var flowForBody: Flow?
        var ready: @Sendable () -> Bool = { true }
        if let flow {
            let client = try MongoClient(
                uri: environment["MONGO_URI"] ?? "mongodb://127.0.0.1:27017", database: flow.database)
            let broker = AMQPClient(
                configuration: .init(
                    connection: try AMQPConnectionConfiguration(
                        uri: environment["RABBITMQ_URI"] ?? "amqp://guest:guest@127.0.0.1:5672")),
                logger: quiet)
            let store = try NotificationStore(client: client)
            let delivery = NotificationDelivery(store: store, server: server, logger: quiet)
            server.setDelegate(delivery)
            let notificationFlow = NotificationFlow(
                store: store, delivery: delivery, broker: broker,
                consumer: .init(
                    topology: QueueTopology(queue: flow.queue), prefetch: 250, concurrency: 4, batchSize: 100),
                logger: quiet)
            services += [broker, notificationFlow]
            flowForBody = Flow(queue: flow.queue, broker: broker, mongo: client)
            ready = { notificationFlow.isReady }
        }
        let router = Router(context: BasicWebSocketRequestContext.self)
        server.registerRoutes(on: router)
        let port = NIOLockedValueBox(0)
        let application = Application(
            router: router,
            // As `serve` builds it (ServiceHost): the HTTP limits' handler on every connection.
            server: server.httpServer(limits: HTTPLimits()),
            configuration: .init(address: .hostname("127.0.0.1", port: 0), backlog: 4096),
            onServerRunning: { channel in port.withLockedValue { $0 = channel.localAddress?.port ?? 0 } },
            logger: quiet
        )
        services.append(application)
        let group = ServiceGroup(configuration: .init(services: services, logger: quiet))
        let flowClients = flowForBody
        let brokerURI = environment["RABBITMQ_URI"] ?? "amqp://guest:guest@127.0.0.1:5672"
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            while port.withLockedValue({ $0 }) == 0 || !ready() {
                try await Task.sleep(for: .milliseconds(20))
            }
            let service = BenchService(
                url: "http://127.0.0.1:\(port.withLockedValue { $0 })", server: server,
                signer: AccessTokenSigner(secret: secret))
            let outcome: Result<Void, any Error>
            do {
                outcome = .success(try await body(service, flowClients))
            } catch {
                outcome = .failure(error)
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            if let flowClients {
                _ = try? await flowClients.mongo.collection("notifications").runWriteCommand([
                    "dropDatabase": .int32(1)
                ])
                try? await flowClients.mongo.shutdown()
                // The run's queue and its retry and dead-letter queues (the database is dropped above).
                try? await BenchQueues.delete(
                    QueueTopology(queue: flowClients.queue), broker: try AMQPConnectionConfiguration(uri: brokerURI))
            }
            try outcome.get()
        }
    }

    /// Connects one client per user id, `batch` at a time; each client's events go to `onEvent`.
    func connect(
        users: [String],
        batch: Int = 200,
        in group: inout ThrowingTaskGroup<Void, any Error>,
        onEvent: @escaping @Sendable (String, [JSONValue]) -> Void
    ) async {
        var index = 0
        while index < users.count {
            let slice = users[index..<min(index + batch, users.count)]
            let connected = Countdown(slice.count)
            for user in slice {
                let token = self.signer.token(userID: user)
                let url = self.url
                group.addTask {
                    try? await BenchSocketClient.run(
                        baseURL: url, token: token, onConnected: { connected.arrive() }, onEvent: onEvent)
                }
            }
            await connected.wait()
            index += batch
        }
    }
}
