import AMQPClient
import FlowKit
import Foundation
import HTTPServerLimits
import Hummingbird
import Logging
import Messaging
import MongoStore
import NIOConcurrencyHelpers
import NotificationService
import Observability
import Prometheus
import RedisClient
import ServiceLifecycle
import SocketIO

/// An in-process notification service for the benchmarks on an ephemeral port, hosted as `serve`
/// hosts it (FlowKit's `ServiceHost`, the HTTP limits on every connection): either the notification
/// flow built by its own build function on the run's queue and database, or the Socket.IO gateway
/// alone with Redis presence.
struct BenchService {
    let url: String
    /// The gateway, when the run has no flow.
    let server: SocketIOServer?
    let signer: AccessTokenSigner

    /// The delivery flow's own queue, and the broker client it consumes with.
    struct Flow: Sendable {
        let queue: String
        let broker: AMQPClient
    }

    static func run(
        flow: (queue: String, database: String)?,
        secret: String = UUID().uuidString,
        _ body: @Sendable (BenchService, Flow?) async throws -> Void
    ) async throws {
        BenchEnvironment.quietLogs()
        var quiet = Logger(label: "bench")
        quiet.logLevel = .error
        let broker = AMQPClient(
            configuration: .init(connection: try AMQPConnectionConfiguration(uri: BenchEnvironment.rabbitMQURI)),
            logger: quiet)
        var services: [any Service] = [broker]
        var host = ServiceHost(
            name: "bench", binding: HTTPBinding(host: "127.0.0.1", port: 0), checks: [],
            registry: PrometheusCollectorRegistry(), version: "bench")
        host.backlog = 4096
        var flowForBody: Flow?
        var gateway: SocketIOServer?
        if let flow {
            // The notification flow as `serve` builds it (its own Socket.IO server and Redis client),
            // on the run's own queue and database, configured as production runs it (prefetch 250,
            // 4 batches in flight, batches of up to 100).
            let mongo = try MongoClient(uri: BenchEnvironment.mongoURI, database: flow.database)
            var configuration = NotificationConfiguration(instanceID: "bench-\(secret.prefix(8))")
            configuration.redisURI = BenchEnvironment.redisURI
            configuration.jwtSecret = secret
            configuration.queue = flow.queue
            let parts = try NotificationFlow.build(
                configuration: configuration,
                dependencies: FlowDependencies(broker: broker, mongo: mongo, version: "bench"))
            host.add(parts)
            services += [mongo] + parts.services
            flowForBody = Flow(queue: flow.queue, broker: broker)
        } else {
            // The gateway alone, for the Socket.IO benchmarks that emit through it.
            let redis = RedisClient(
                configuration: try RedisConfiguration(uri: BenchEnvironment.redisURI), logger: quiet)
            let server = NotificationGateway.makeServer(
                configuration: SocketIOServerConfiguration(
                    instanceID: "bench-\(secret.prefix(8))", busChannel: "bench.socket.io.\(secret.prefix(8))"),
                verifier: AccessTokenVerifier(secret: secret),
                redis: redis,
                logger: quiet
            )
            gateway = server
            let routes = SocketIORoutes(server: server)
            host.routes = [routes]
            host.httpServer = routes.httpServer
            services += [redis, server]
        }
        let port = NIOLockedValueBox(0)
        services.append(
            host.makeApplication(logger: quiet, onListening: { bound in port.withLockedValue { $0 = bound } }))
        let group = ServiceGroup(configuration: .init(services: services, logger: quiet))
        let flowClients = flowForBody
        let server = gateway
        let checks = host.checks
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            while port.withLockedValue({ $0 }) == 0 {
                try await Task.sleep(for: .milliseconds(20))
            }
            while await !Self.ready(checks) {
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
                // The run's database (its client is closed by now: a fresh one drops it), then its
                // queue with the retry and dead-letter queues.
                if let mongo = try? MongoClient(uri: BenchEnvironment.mongoURI, database: flow?.database) {
                    _ = try? await mongo.collection("notifications").runWriteCommand(["dropDatabase": .int32(1)])
                    try? await mongo.shutdown()
                }
                try? await BenchQueues.delete(
                    QueueTopology(queue: flowClients.queue),
                    broker: try AMQPConnectionConfiguration(uri: BenchEnvironment.rabbitMQURI))
            }
            try outcome.get()
        }
    }

    /// Whether every readiness check of the flow passes (the consumer consumes, the gateway hears
    /// the other instances).
    private static func ready(_ checks: [ReadinessCheck]) async -> Bool {
        for check in checks where await check.run().status != "up" {
            return false
        }
        return true
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
