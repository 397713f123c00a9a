import AMQPClient
import Configuration
import Console
import EmailWorker
import GraphSync
import HTTPServerLimits
import Logging
import NotificationService
import Observability

/// The whole effective configuration of one `decode-async` process, read from environment variables
/// (and `.env`) with the names and defaults of COMPAT.md section 1.
struct DecodeAsyncConfiguration {
    var shared: SharedConfiguration
    /// Present when a service that reads MongoDB runs with a `MONGO_URI`.
    var mongo: MongoConfiguration?
    var notifications: NotificationConfiguration?
    var email: EmailConfiguration?
    var sync: SyncConfiguration?
    var console: ConsoleConfiguration?

    /// Reads the settings of `services`; settings of services not run are not read, so a process
    /// running only the email worker does not need `NEO4J_URI`.
    ///
    /// - Throws: ``ConfigurationErrors`` listing every missing or malformed variable.
    static func load(
        from reader: ConfigReader,
        services: Set<ServiceName>
    ) throws(ConfigurationErrors) -> DecodeAsyncConfiguration {
        var settings = SettingsReader(reader: reader)
        let configuration = Self.read(&settings, services: services)
        guard settings.errors.isEmpty else {
            throw ConfigurationErrors(errors: settings.errors)
        }
        return configuration
    }

    /// Reads every setting, collecting problems and effective values in `settings`.
    static func read(_ settings: inout SettingsReader, services: Set<ServiceName>) -> DecodeAsyncConfiguration {
        let shared = SharedConfiguration(&settings)
        let readsMongo = services.contains(.notifications) || services.contains(.sync) || services.contains(.console)
        let mongo = readsMongo ? MongoConfiguration.read(&settings, required: services.contains(.notifications)) : nil
        let notifications = services.contains(.notifications) ? NotificationConfiguration(&settings) : nil
        let email =
            services.contains(.email) ? EmailConfiguration(&settings, sharedRedisURI: notifications?.redisURI) : nil
        let sync = services.contains(.sync) ? SyncConfiguration(&settings) : nil
        let console =
            services.contains(.console)
            ? ConsoleConfiguration(
                &settings,
                sharedRedisURI: notifications?.redisURI ?? email?.redisURI,
                redisRead: notifications != nil || email != nil,
                sharedGraph: sync.map {
                    ConsoleConfiguration.Graph(
                        uri: $0.neo4jURI, user: $0.neo4jUser, password: $0.neo4jPassword, database: $0.neo4jDatabase)
                }
            ) : nil
        return DecodeAsyncConfiguration(
            shared: shared, mongo: mongo, notifications: notifications, email: email, sync: sync, console: console)
    }
}

/// Settings every service shares: the broker, logging, metrics and the HTTP listeners' limits.
struct SharedConfiguration {
    var rabbitmqURI: String
    var logLevel: Logger.Level
    var logFormat: LogFormat
    var metrics: MetricsConfiguration
    var httpLimits: HTTPLimits

    init(_ settings: inout SettingsReader) {
        self.rabbitmqURI =
            settings.uri("RABBITMQ_URI", default: "amqp://localhost:5672", schemes: ["amqp", "amqps"])
            ?? "amqp://localhost:5672"
        do {
            _ = try AMQPConnectionConfiguration(uri: self.rabbitmqURI)
        } catch {
            settings.invalid(
                "RABBITMQ_URI", value: self.rabbitmqURI,
                expected: "an AMQP URI (\(error.message ?? "see the RabbitMQ URI specification"))")
        }
        self.logLevel = settings.choice("LOG_LEVEL", default: Logger.Level.info)
        self.logFormat = settings.choice("LOG_FORMAT", default: LogFormat.logfmt)
        self.metrics = MetricsConfiguration(&settings)
        self.httpLimits = HTTPLimits(&settings)
    }
}

/// DogStatsD and tagging, as hot-shots reads them in the original.
struct MetricsConfiguration {
    var service: String
    var env: String
    var version: String?
    var agentHost: String
    var agentPort: Int
    var prefix: String

    init(_ settings: inout SettingsReader) {
        self.service = settings.string("DD_SERVICE", default: "unknown-service") ?? "unknown-service"
        self.env = settings.string("DD_ENV", default: "production") ?? "production"
        self.version = settings.string("DD_VERSION")
        self.agentHost = settings.string("DD_AGENT_HOST", default: "localhost") ?? "localhost"
        self.agentPort = settings.port("DD_DOGSTATSD_PORT", default: 8125)
        self.prefix = settings.string("DD_METRICS_PREFIX", default: "") ?? ""
    }
}
