import AMQPClient
import ArgumentParser
import Foundation
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
/// Redis presence, and optionally the delivery flow on its own queue and database.
struct BenchService {
    let url: String
    let server: SocketIOServer
    let signer: AccessTokenSigner

    static func run(
        flow: (queue: String, database: String)?,
        _ body: @Sendable (BenchService, MessagePublisher?, MongoClient?) async throws -> Void
    ) async throws {
        var quiet = Logger(label: "bench")
        quiet.logLevel = .error
        let environment = ProcessInfo.processInfo.environment
        let secret = UUID().uuidString
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
        var publisher: MessagePublisher?
        var mongo: MongoClient?
        var ready: @Sendable () -> Bool = { true }
        if let flow {
            let client = try MongoClient(
                uri: environment["MONGO_URI"] ?? "mongodb://127.0.0.1:27017", database: flow.database)
            mongo = client
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
            publisher = MessagePublisher(client: broker)
            ready = { notificationFlow.isReady }
        }
        let router = Router(context: BasicWebSocketRequestContext.self)
        server.registerRoutes(on: router)
        let webSocketRouter = Router(context: BasicWebSocketRequestContext.self)
        server.registerWebSocketRoute(on: webSocketRouter)
        let port = NIOLockedValueBox(0)
        let application = Application(
            router: router,
            server: .http1WebSocketUpgrade(
                webSocketRouter: webSocketRouter, configuration: .init(ws: server.webSocketConfiguration)),
            configuration: .init(address: .hostname("127.0.0.1", port: 0), backlog: 4096),
            onServerRunning: { channel in port.withLockedValue { $0 = channel.localAddress?.port ?? 0 } },
            logger: quiet
        )
        services.append(application)
        let group = ServiceGroup(configuration: .init(services: services, logger: quiet))
        let publisherForBody = publisher
        let mongoForBody = mongo
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
                outcome = .success(try await body(service, publisherForBody, mongoForBody))
            } catch {
                outcome = .failure(error)
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            if let mongo {
                _ = try? await mongo.collection("notifications").runWriteCommand(["dropDatabase": .int32(1)])
                try? await mongo.shutdown()
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

extension BenchCommand {
    /// `decode-async bench socketio`: N clients, an emit to each user room, emit-to-receipt latency
    /// and memory per connection.
    struct SocketIOBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "socketio",
            abstract: "Connect N Socket.IO clients, emit to each user's room, report latency and memory."
        )

        @Option(help: "Connected clients (one user each).")
        var clients = 2000

        @Option(help: "Emits to every user room.")
        var rounds = 3

        @Option(help: "Emits in flight at once (1: one at a time, as the python-socketio baseline emits).")
        var inFlight = 64

        func run() async throws {
            let clients = self.clients
            let rounds = self.rounds
            let window = max(1, self.inFlight)
            try await BenchService.run(flow: nil) { service, _, _ in
                let users = (0..<clients).map { _ in BSONObjectID.generate().hex }
                let origin = ContinuousClock.now
                let latencies = NIOLockedValueBox<[Duration]>([])
                let received = Countdown(clients * rounds)
                let before = BenchSocketClient.residentBytes()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    let connectStart = ContinuousClock.now
                    await service.connect(users: users, in: &group) { name, arguments in
                        guard name == "bench", case .number(let sent)? = arguments.first?["t"] else { return }
                        let latency = (ContinuousClock.now - origin) - .nanoseconds(Int64(sent))
                        latencies.withLockedValue { $0.append(latency) }
                        received.arrive()
                    }
                    let connectElapsed = ContinuousClock.now - connectStart
                    let perConnection = Double(BenchSocketClient.residentBytes() - before) / Double(clients)
                    BenchReport.print("socket.io connect", count: clients, elapsed: connectElapsed, latencies: nil)
                    print(
                        String(
                            format:
                                "decode-async  memory per connection        %8.1f KiB (server and client in one process)",
                            perConnection / 1024))
                    let emitStart = ContinuousClock.now
                    for _ in 0..<rounds {
                        await withTaskGroup(of: Void.self) { emits in
                            for (index, user) in users.enumerated() {
                                if index >= window { await emits.next() }
                                emits.addTask {
                                    let sent = Double((ContinuousClock.now - origin) / .nanoseconds(1))
                                    await service.server.emit(toUser: user, "bench", [.object(["t": .number(sent)])])
                                }
                            }
                        }
                    }
                    await received.wait()
                    BenchReport.print(
                        "room emit, \(window) in flight", count: clients * rounds,
                        elapsed: ContinuousClock.now - emitStart,
                        latencies: latencies.withLockedValue { $0 })
                    group.cancelAll()
                }
            }
        }
    }

    /// `decode-async bench notifications`: N notifications for M connected users through RabbitMQ,
    /// MongoDB and Socket.IO.
    struct NotificationsBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "notifications",
            abstract: "Publish N notifications for M connected users; end-to-end throughput, latency, CPU time."
        )

        @Option(help: "Notifications to publish.")
        var notifications = 2000

        @Option(help: "Connected users.")
        var users = 50

        func run() async throws {
            let total = self.notifications
            let userCount = self.users
            let suffix = UUID().uuidString.prefix(8).lowercased()
            try await BenchService.run(flow: ("bench.notifications.\(suffix)", "decode_bench_\(suffix)")) {
                service, publisher, mongo in
                guard let publisher, let mongo else { return }
                let users = (0..<userCount).map { _ in BSONObjectID.generate().hex }
                let origin = ContinuousClock.now
                let latencies = NIOLockedValueBox<[Duration]>([])
                let received = Countdown(total)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    await service.connect(users: users, in: &group) { name, arguments in
                        guard name == NotificationDelivery.receivedEvent,
                            let title = arguments.first?["data"]?["title"]?.stringValue,
                            let sent = Int64(title.dropFirst("bench ".count))
                        else { return }
                        latencies.withLockedValue { $0.append((ContinuousClock.now - origin) - .nanoseconds(sent)) }
                        received.arrive()
                    }
                    // The idle cost (heartbeats, presence refresh, broker heartbeats, pollers) is
                    // measured first and taken off, so the figure is the work per notification.
                    let idleStart = BenchCommand.Mongo.cpuSeconds()
                    try await Task.sleep(for: .seconds(2))
                    let idlePerSecond = (BenchCommand.Mongo.cpuSeconds() - idleStart) / 2
                    let cpuStart = BenchCommand.Mongo.cpuSeconds()
                    let start = ContinuousClock.now
                    try await withThrowingTaskGroup(of: Void.self) { publishes in
                        for index in 0..<total {
                            if index >= 64 { try await publishes.next() }
                            let user = users[index % users.count]
                            publishes.addTask {
                                let sent = (ContinuousClock.now - origin) / .nanoseconds(1)
                                try await publisher.emit(
                                    pattern: NotificationFlow.pattern,
                                    data: [
                                        "user_id": user, "type": "bench", "title": "bench \(Int64(sent))",
                                        "message": "m",
                                    ],
                                    queue: "bench.notifications.\(suffix)"
                                )
                            }
                        }
                        try await publishes.waitForAll()
                    }
                    await received.wait()
                    let elapsed = ContinuousClock.now - start
                    let cpu = max(
                        0, BenchCommand.Mongo.cpuSeconds() - cpuStart - idlePerSecond * BenchReport.seconds(elapsed))
                    BenchReport.print(
                        "publish → socket receipt", count: total, elapsed: elapsed,
                        latencies: latencies.withLockedValue { $0 })
                    print(
                        String(
                            format:
                                "decode-async  cpu per 1,000 notifications  %8.1f ms (worker, gateway and %d clients in one process, idle cost taken off)",
                            cpu / Double(total) * 1_000_000, userCount))
                    group.cancelAll()
                }
                try await Self.storeCeiling(mongo, operations: min(total, 300))
            }
        }

        /// The store's own rate for what one notification costs it (insert, delivered and ack
        /// updates, the unread count), measured serially beside the flow on the same server.
        static func storeCeiling(_ mongo: MongoClient, operations: Int) async throws {
            let collection = try mongo.collection("bench_store_ceiling")
            let user = BSONObjectID.generate()
            let start = ContinuousClock.now
            for _ in 0..<operations {
                let id = BSONObjectID.generate()
                _ = try await collection.insertOne([
                    "_id": .objectID(id), "user_id": .objectID(user), "delivered": .bool(false), "read": .bool(false),
                ])
                _ = try await collection.updateOne(
                    MongoFilter.and([.eq("_id", .objectID(id)), .eq("delivered", .bool(false))]),
                    .set(["delivered": .bool(true)]))
                _ = try await collection.updateOne(
                    MongoFilter.eq("_id", .objectID(id)), .set(["acknowledged_at": .date(Date())]))
                _ = try await collection.countDocuments(
                    MongoFilter.and([.eq("user_id", .objectID(user)), .eq("read", .bool(false))]).document)
            }
            BenchReport.print(
                "store alone (4 ops each)", count: operations, elapsed: ContinuousClock.now - start,
                latencies: nil)
        }
    }
}
