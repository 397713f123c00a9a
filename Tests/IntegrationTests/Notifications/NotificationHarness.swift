import AMQPClient
import Foundation
import Hummingbird
import Logging
import Messaging
import MongoStore
import NIOCore
import NotificationService
import RedisClient
import ServiceLifecycle
import SocketIO
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The notification service as production wires it (broker, Redis, Socket.IO, the flow, REST),
/// on an ephemeral port, its own queue, its own MongoDB database and its own Redis channel.
struct NotificationHarness: Sendable {
    static let secret = "notification-test-secret"
    static var signer: AccessTokenSigner { AccessTokenSigner(secret: Self.secret) }

    let url: String
    let queue: String
    let store: NotificationStore
    let delivery: NotificationDelivery
    let server: SocketIOServer
    let publisher: MessagePublisher
    let broker: AMQPClient
    let redis: RedisClient
    let collection: MongoCollection

    /// Runs the service around `body`. `waiting` raw bodies are put in the queue before the flow
    /// starts consuming (so that they arrive together, in batches); `afterShutdown` sees the queue
    /// after the service stopped (its unacknowledged messages are back in the queue by then).
    /// `ackWait`: how long a push waits for its client's ack before its delivery is written alone.
    static func run(
        authService: String? = nil,
        ackWait: Duration = .seconds(1),
        waiting: [String] = [],
        beforeConsuming: @Sendable (String, NotificationStore) async throws -> Void = { _, _ in },
        afterShutdown: @Sendable (String, MongoCollection) async throws -> Void = { _, _ in },
        _ body: @Sendable (NotificationHarness) async throws -> Void
    ) async throws {
        // MongoDB fail points are global: the test that sets one runs alone (MongoLock).
        try await MongoLock.shared {
            try await Self.runService(
                authService: authService, ackWait: ackWait, waiting: waiting, beforeConsuming: beforeConsuming,
                afterShutdown: afterShutdown, body)
        }
    }

    private static func runService(
        authService: String?,
        ackWait: Duration,
        waiting: [String],
        beforeConsuming: @Sendable (String, NotificationStore) async throws -> Void,
        afterShutdown: @Sendable (String, MongoCollection) async throws -> Void,
        _ body: @Sendable (NotificationHarness) async throws -> Void
    ) async throws {
        let sessions = authService.flatMap { AuthServiceSessions(baseURL: $0, logger: Logger(label: "test.auth")) }
        let queue = TestEnvironment.uniqueName("test.notifications")
        if !waiting.isEmpty {
            try await Self.publish(waiting, to: queue)
        }
        let database = "decode_test_\(UUID().uuidString.prefix(8).lowercased())"
        let mongo = try MongoClient(uri: MongoIntegrationURI.uri, database: database)
        let broker = try MessagingHarness.makeClient()
        let redis = RedisClient(configuration: try RedisConfiguration(uri: RedisIntegrationTests.uri))
        let verifier = AccessTokenVerifier(secret: Self.secret)
        let server = NotificationGateway.makeServer(
            configuration: SocketIOServerConfiguration(
                pingInterval: .seconds(2), pingTimeout: .seconds(15), instanceID: TestEnvironment.uniqueName("n"),
                busChannel: TestEnvironment.uniqueName("test.bus")
            ),
            verifier: verifier,
            redis: redis,
            presenceTTLSeconds: 30,
            sessionCheck: sessions?.socketCheck,
            logger: Logger(label: "test.socket.io")
        )
        let store = try NotificationStore(client: mongo)
        let delivery = NotificationDelivery(
            store: store, server: server, ackWait: ackWait, logger: Logger(label: "test.notifications"))
        server.setDelegate(delivery)
        try await store.ensureIndexes()
        try await beforeConsuming(queue, store)
        let flow = NotificationFlow(
            store: store,
            delivery: delivery,
            broker: broker,
            consumer: .init(
                topology: QueueTopology(
                    queue: queue, retry: RetryPolicy(baseDelay: .milliseconds(100), factor: 2, maxRetries: 1, jitter: 0)
                ),
                prefetch: 50,
                concurrency: 2,
                batchSize: 20
            ),
            logger: Logger(label: "test.notifications")
        )
        let rest = NotificationRoutes(
            store: store, delivery: delivery, verifier: verifier, sessions: sessions, corsOrigin: "*",
            logger: Logger(label: "test.rest"))
        let port = PortBox()
        let application = GatewayHarness.application(serving: server, port: port) { router in
            rest.register(on: router)
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [broker, redis, server, flow, application], logger: Logger(label: "test.group"))
        )
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let outcome: Result<Void, any Error>
            do {
                try await eventually("the service listens and consumes") {
                    await port.value != 0 && flow.isReady && server.isReady
                }
                let harness = NotificationHarness(
                    url: "http://127.0.0.1:\(await port.value)",
                    queue: queue,
                    store: store,
                    delivery: delivery,
                    server: server,
                    publisher: MessagePublisher(client: broker),
                    broker: broker,
                    redis: redis,
                    collection: try mongo.collection(NotificationStore.collectionName)
                )
                outcome = .success(try await body(harness))
            } catch {
                outcome = .failure(error)
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            var checked = Result<Void, any Error>.success(())
            if case .success = outcome {
                do {
                    try await afterShutdown(queue, try mongo.collection(NotificationStore.collectionName))
                } catch { checked = .failure(error) }
            }
            _ = try? await mongo.collection("notifications").runWriteCommand(["dropDatabase": .int32(1)])
            try? await MessagingHarness.deleteQueues(of: QueueTopology(queue: queue))
            try? await mongo.shutdown()
            try outcome.get()
            try checked.get()
        }
    }

    /// Declares the main queue as the flow does (durable, no arguments) and publishes raw bodies
    /// with no properties, as NestJS `ClientProxy.emit` does.
    static func publish(_ bodies: [String], to queue: String) async throws {
        let connection = try await AMQPConnection.connect(
            configuration: try AMQPConnectionConfiguration(uri: TestEnvironment.rabbitMQURI))
        let channel = try await connection.openChannel()
        try await channel.queueDeclare(queue)
        try await channel.confirmSelect()
        for body in bodies {
            try await channel.publish(ByteBuffer(string: body), routingKey: queue)
        }
        await connection.close()
    }

    static func newUserID() -> String { BSONObjectID.generate().hex }

    /// An HTTP request to the service; returns the status and the JSON body.
    func request(
        _ method: String, _ path: String, token: String?, headers: [String: String] = [:]
    ) async throws -> (Int, JSONValue) {
        let (status, body, _) = try await self.exchange(method, path, token: token, headers: headers)
        return (status, body)
    }

    /// An HTTP request to the service; returns the status, the JSON body and the response headers.
    func exchange(
        _ method: String, _ path: String, token: String?, headers: [String: String] = [:]
    ) async throws -> (Int, JSONValue, [AnyHashable: Any]) {
        var request = URLRequest(url: try #require(URL(string: self.url + path)))
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        let status = http?.statusCode ?? 0
        let body = (try? JSONValue.parse(Substring(String(decoding: data, as: UTF8.self)))) ?? .null
        return (status, body, http?.allHeaderFields ?? [:])
    }
}

enum MongoIntegrationURI {
    static var uri: String { ProcessInfo.processInfo.environment["MONGO_URI"] ?? "mongodb://127.0.0.1:27017" }
}
