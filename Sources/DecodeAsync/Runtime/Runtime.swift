import AMQPClient
import ArgumentParser
import Console
import CoreMetrics
import Hummingbird
import Logging
import Metrics
import MongoStore
import Observability
import Prometheus
import RedisClient
import ServiceLifecycle
import UnixSignals

/// Wires logging, metrics and the chosen services into one `ServiceGroup` and runs it until SIGTERM
/// or SIGINT, then shuts down in reverse order (the metrics sender last, so final metrics leave).
/// When a service throws (e.g. its queue topology is refused), the group cancels the others; the
/// error is logged at error level and the process exits with status 1.
struct Runtime {
    static let version = "0.1.0"

    var configuration: DecodeAsyncConfiguration
    var services: Set<ServiceName>

    func run() async throws {
        let shared = self.configuration.shared
        LoggingBootstrap.bootstrap(format: shared.logFormat, level: shared.logLevel)
        let logger = Logger(label: "decode-async")

        let dogStatsD = DogStatsDClient(
            configuration: .init(host: shared.metrics.agentHost, port: shared.metrics.agentPort),
            logger: Logger(label: "decode-async.dogstatsd")
        )
        let registry = PrometheusCollectorRegistry()
        let globalTags = MetricsBootstrap.globalTags(
            service: shared.metrics.service,
            env: shared.metrics.env,
            version: shared.metrics.version
        )
        let metrics = MetricsBootstrap.makeFactory(
            dogStatsD: dogStatsD,
            prefix: shared.metrics.prefix,
            globalTags: globalTags,
            prometheus: registry
        )
        // The console's throughput charts: this process's flows counted into Redis (docs/console.md).
        var throughputServices: [any Service] = []
        if let uri = self.throughputRedisURI {
            let recorder = ThroughputRecorder()
            let redis = RedisClient(configuration: try RedisConfiguration(uri: uri))
            throughputServices.append(recorder.flusher(redis: redis))
            MetricsBootstrap.bootstrap(MultiplexMetricsHandler(factories: [metrics, recorder.metricsFactory]))
        } else {
            MetricsBootstrap.bootstrap(metrics)
        }

        var connection = try AMQPConnectionConfiguration(uri: shared.rabbitmqURI)
        connection.connectionName = "decode-async \(self.services.map(\.rawValue).sorted().joined(separator: ","))"
        let broker = AMQPClient(
            configuration: .init(connection: connection), logger: Logger(label: "decode-async.amqp"))
        let brokerCheck = ReadinessCheck(name: "rabbitmq") {
            guard broker.isConnected else { throw ReadinessFailure("not connected to RabbitMQ") }
        }

        let mongo = try self.makeMongoClient()
        let mongoCheck = mongo.map { client in
            ReadinessCheck.shared(name: "mongodb") { try await client.ping() }
        }

        // Clients first: the group stops services in reverse order, so they close after their users.
        var groupServices: [any Service] = [dogStatsD, broker]
        if let mongo { groupServices.append(mongo) }
        groupServices += throughputServices
        var flowChecks: [ServiceName: [ReadinessCheck]] = [:]
        if self.services.contains(.email), let email = self.configuration.email {
            let flow = try await EmailFlow.make(configuration: email, broker: broker)
            groupServices += flow.services
            flowChecks[.email] = flow.readiness
        }
        for name in ServiceName.allCases where self.services.contains(name) {
            guard let binding = self.binding(of: name) else { continue }
            var checks: [ReadinessCheck] = [brokerCheck]
            if let mongoCheck, name != .email, name != .console {
                checks.append(mongoCheck)
            }
            checks += flowChecks[name] ?? []
            var host = ServiceHost(
                name: name, binding: binding, checks: checks, registry: registry, version: Self.version)
            host.limits = shared.httpLimits
            if name == .notifications, let notifications = self.configuration.notifications, let mongo {
                let wiring = try NotificationWiring(
                    configuration: notifications, broker: broker, mongo: mongo, logger: logger)
                groupServices += wiring.services
                host.checks += wiring.checks
                host.routes = wiring.routes
                host.httpServer = wiring.httpServer
            }
            if name == .console, let flow = try self.makeConsoleFlow(broker: broker, mongo: mongo) {
                groupServices += flow.services
                host.routes = flow.routes
            }
            if name == .sync, let flow = try self.makeSyncFlow(broker: broker, mongo: mongo) {
                groupServices += flow.services
                host.checks += flow.checks
                host.routes = flow.routes
            }
            groupServices.append(host.makeApplication(logger: logger))
            Counter(label: "metrics.service.initialized", dimensions: [("component", name.displayName)]).increment()
        }

        let group = ServiceGroup(
            configuration: .init(
                services: groupServices,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        do {
            try await group.run()
        } catch {
            // The group cancelled every other service and waited for them; it rethrows the first error.
            logger.error("a service failed; every service is stopped", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
    }

    /// One MongoDB client for the process, when a service that reads MongoDB runs.
    private func makeMongoClient() throws -> MongoClient? {
        try self.configuration.mongo.map { mongo in
            try MongoClient(uri: mongo.uri, database: mongo.database, threads: mongo.threads)
        }
    }

    private func binding(of name: ServiceName) -> HTTPBinding? {
        switch name {
        case .notifications: self.configuration.notifications?.http
        case .email: self.configuration.email?.http
        case .sync: self.configuration.sync?.http
        case .console: self.configuration.console?.http
        }
    }
}
