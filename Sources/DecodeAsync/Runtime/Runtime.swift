import AMQPClient
import ArgumentParser
import Console
import CoreMetrics
import EmailWorker
import FlowKit
import Hummingbird
import Logging
import Metrics
import MongoStore
import NotificationService
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

        let flows = self.configuration.flows
        var connection = try AMQPConnectionConfiguration(uri: shared.rabbitmqURI)
        connection.connectionName = "decode-async \(flows.map(\.name.rawValue).sorted().joined(separator: ","))"
        let broker = AMQPClient(
            configuration: .init(connection: connection), logger: Logger(label: "decode-async.amqp"))
        let brokerCheck = ReadinessCheck(name: "rabbitmq") {
            guard broker.isConnected else { throw ReadinessFailure("not connected to RabbitMQ") }
        }

        let mongo = try self.makeMongoClient()

        // Clients first: the group stops services in reverse order, so they close after their users.
        var groupServices: [any Service] = [dogStatsD, broker]
        if let mongo { groupServices.append(mongo) }
        groupServices += throughputServices
        let dependencies = FlowDependencies(broker: broker, mongo: mongo, version: Self.version)
        for flow in flows {
            let parts: FlowParts
            do {
                parts = try await flow.build(dependencies)
            } catch let error as FlowConfigurationError {
                // A setting the flow cannot use stops start-up as a bad setting does.
                printError("decode-async: configuration: \(error)")
                throw ExitCode(78)
            }
            var host = ServiceHost(
                name: flow.name.displayName, binding: flow.http, checks: [brokerCheck], registry: registry,
                version: Self.version)
            host.limits = shared.httpLimits
            host.add(parts)
            groupServices += parts.services
            groupServices.append(host.makeApplication(logger: logger))
            Counter(label: "metrics.service.initialized", dimensions: [("component", flow.name.displayName)])
                .increment()
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

    /// The Redis every flow of this process counts its throughput into, when it knows one.
    private var throughputRedisURI: String? {
        self.configuration.notifications?.redisURI ?? self.configuration.email?.redisURI
            ?? self.configuration.console?.redisURI
    }
}
