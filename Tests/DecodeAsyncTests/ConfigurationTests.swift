import Configuration
import Console
import EmailWorker
import FlowKit
import Foundation
import GraphSync
import HTTPServerLimits
import Logging
import NotificationService
import Observability
import Testing

@testable import DecodeAsync

@Suite("Configuration from environment variables")
struct ConfigurationTests {
    static let complete: [String: String] = [
        "MONGO_URI": "mongodb://127.0.0.1:27017/decode",
        "NEO4J_URI": "bolt://127.0.0.1:7687",
        "NEO4J_USER": "root",
        "NEO4J_PASSWORD": "s3cret-graph",
    ]
    /// What plain `serve` runs without `CONSOLE_TOKEN`.
    static let flows: Set<ServiceName> = [.notifications, .email, .sync]

    func load(
        _ environment: [String: String],
        services: Set<ServiceName> = Self.flows
    ) throws(ConfigurationErrors) -> DecodeAsyncConfiguration {
        let reader = ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: environment))
        return try DecodeAsyncConfiguration.load(from: reader, services: services)
    }

    func errors(_ environment: [String: String], services: Set<ServiceName> = Self.flows) -> [String] {
        do {
            _ = try self.load(environment, services: services)
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    @Test func defaultsFollowTheOriginal() throws {
        let configuration = try self.load(Self.complete)
        #expect(configuration.shared.rabbitmqURI == "amqp://localhost:5672")
        #expect(configuration.shared.metrics.service == "unknown-service")
        #expect(configuration.shared.metrics.env == "production")
        #expect(configuration.shared.metrics.agentHost == "localhost")
        #expect(configuration.shared.metrics.agentPort == 8125)
        #expect(configuration.shared.metrics.version == nil)
        #expect(configuration.shared.logLevel == .info)
        #expect(configuration.shared.logFormat == .logfmt)
        let notifications = try #require(configuration.notifications)
        #expect(notifications.http == HTTPBinding(host: "0.0.0.0", port: 4005))
        #expect(notifications.redisURI == "redis://localhost:6379/0")
        #expect(notifications.jwtIssuer == "decode-auth-service")
        #expect(notifications.jwtAudience == "decode-frontend")
        #expect(notifications.frontendURL == "*")
        #expect(notifications.jwtSecret == "")
        let email = try #require(configuration.email)
        #expect(email.http.port == 4003)
        #expect(email.smtpHost == "smtp.gmail.com")
        #expect(email.smtpPort == 587)
        #expect(email.smtpSecure == false)
        #expect(email.smtpRequireTLS == true)
        #expect(email.smtpTLSVerify == true)
        let sync = try #require(configuration.sync)
        #expect(sync.http.port == 4006)
        #expect(sync.neo4jDatabase == nil)
    }

    @Test func httpLimitsHaveNginxAndNodeDefaultsAndAreChecked() throws {
        let defaults = try self.load(Self.complete).shared.httpLimits
        #expect(defaults == HTTPLimits(headTimeout: .seconds(60), idleTimeout: .seconds(75), maxHeadBytes: 16_384))
        var environment = Self.complete
        environment["HTTP_HEADER_TIMEOUT"] = "5"
        environment["HTTP_IDLE_TIMEOUT"] = "10"
        environment["HTTP_MAX_HEADER_SIZE"] = "32768"
        #expect(
            try self.load(environment).shared.httpLimits
                == HTTPLimits(headTimeout: .seconds(5), idleTimeout: .seconds(10), maxHeadBytes: 32_768))
        environment["HTTP_HEADER_TIMEOUT"] = "0"
        environment["HTTP_MAX_HEADER_SIZE"] = "16k"
        let errors = self.errors(environment)
        #expect(errors.contains(#"HTTP_HEADER_TIMEOUT="0" is invalid: expected seconds from 1 to 3600"#))
        #expect(
            errors.contains(#"HTTP_MAX_HEADER_SIZE="16k" is invalid: expected a size in bytes from 1024 to 1048576"#))
    }

    @Test func missingRequiredValuesAreEachNamed() {
        let errors = self.errors([:])
        #expect(
            errors == [
                "MONGO_URI is missing: expected a URI starting with mongodb://, mongodb+srv://",
                "NEO4J_URI is missing: expected a URI starting with bolt://, bolt+s://, bolt+ssc://, neo4j://, neo4j+s://, neo4j+ssc://",
                "NEO4J_USER is missing: expected the Neo4j user name",
                "NEO4J_PASSWORD is missing: expected the Neo4j password",
            ]
        )
    }

    @Test func onlyTheChosenServicesSettingsAreRequired() throws {
        let configuration = try self.load([:], services: [.email])
        #expect(configuration.email != nil)
        #expect(configuration.notifications == nil)
        #expect(configuration.sync == nil)
    }

    @Test func malformedValuesNameVariableValueAndExpectation() {
        var environment = Self.complete
        environment["SMTP_PORT"] = "70000"
        environment["NOTIFICATION_PORT"] = "http"
        environment["SMTP_REQUIRE_TLS"] = "sometimes"
        environment["LOG_LEVEL"] = "loud"
        environment["RABBITMQ_URI"] = "http://guest:hunter2@rabbit:5672"
        let errors = self.errors(environment)
        #expect(errors.contains(#"SMTP_PORT="70000" is invalid: expected a port number from 1 to 65535"#))
        #expect(errors.contains(#"NOTIFICATION_PORT="http" is invalid: expected a port number from 1 to 65535"#))
        #expect(errors.contains(#"SMTP_REQUIRE_TLS="sometimes" is invalid: expected true or false"#))
        #expect(
            errors.contains(
                #"LOG_LEVEL="loud" is invalid: expected one of trace, debug, info, notice, warning, error, critical"#
            )
        )
        #expect(
            errors.contains(
                #"RABBITMQ_URI="http://guest:***@rabbit:5672" is invalid: expected a URI starting with amqp://, amqps://"#
            )
        )
        #expect(!errors.joined().contains("hunter2"))
    }

    @Test func amqpURIParametersAreChecked() {
        var environment = Self.complete
        environment["RABBITMQ_URI"] = "amqp://rabbit?heartbeat=soon"
        #expect(
            self.errors(environment) == [
                #"RABBITMQ_URI="amqp://rabbit?heartbeat=soon" is invalid: expected an AMQP URI (heartbeat must be a number from 0 to 65535)"#
            ]
        )
    }

    @Test func mongoIsReadOnceAndOptionalForTheSyncAlone() throws {
        var syncOnly = Self.complete
        syncOnly["MONGO_URI"] = nil
        #expect(try self.load(syncOnly, services: [.sync]).mongo == nil)
        #expect(try self.load([:], services: [.email]).mongo == nil)
        let both = try self.load(Self.complete, services: [.notifications, .sync])
        #expect(both.mongo?.uri == "mongodb://127.0.0.1:27017/decode")
        #expect(both.mongo?.threads == 4)
    }

    @Test func theNotificationDatabaseMustBeNamed() {
        var environment = Self.complete
        environment["MONGO_URI"] = "mongodb://127.0.0.1:27017/?appName=x"
        #expect(
            self.errors(environment).contains(
                "MONGO_DB_NAME is missing: expected the database holding notifications (MONGO_URI names none)"))
        environment["MONGO_DB_NAME"] = "decode"
        #expect(self.errors(environment).isEmpty)
        #expect(MongoConfiguration.namesDatabase("mongodb://u:p@db1:27017,db2:27017/decode?replicaSet=rs0"))
        #expect(!MongoConfiguration.namesDatabase("mongodb+srv://cluster0.example.net/?retryWrites=true"))
        #expect(!MongoConfiguration.namesDatabase("mongodb://127.0.0.1:27017"))
    }

    @Test func mongoURIIsCheckedByLibmongoc() {
        var environment = Self.complete
        environment["MONGO_URI"] = "mongodb://127.0.0.1:27017/?replicaSet="
        environment["MONGO_THREADS"] = "0"
        let errors = self.errors(environment)
        #expect(
            errors.contains {
                $0.hasPrefix(
                    #"MONGO_URI="mongodb://127.0.0.1:27017/?replicaSet=" is invalid: expected a MongoDB URI libmongoc accepts"#
                )
            })
        #expect(errors.contains(#"MONGO_THREADS="0" is invalid: expected a thread count from 1 to 64"#))
    }

    @Test func uriValidation() {
        let mongo = ["mongodb", "mongodb+srv"]
        #expect(SettingsReader.isValidURI("mongodb://u:p@a:27017,b:27018/db?replicaSet=rs0", schemes: mongo))
        #expect(SettingsReader.isValidURI("mongodb+srv://cluster0.example.net/", schemes: mongo))
        #expect(!SettingsReader.isValidURI("mongodb://", schemes: mongo))
        #expect(!SettingsReader.isValidURI("mongodb://a:99999", schemes: mongo))
        #expect(!SettingsReader.isValidURI("mongo://a", schemes: mongo))
        #expect(!SettingsReader.isValidURI("mongodb://a b", schemes: mongo))
        #expect(SettingsReader.isValidURI("amqps://[::1]:5671/vhost", schemes: ["amqp", "amqps"]))
    }

    @Test func smtpDefaultsDependOnPortAndUser() throws {
        var environment = Self.complete
        environment["SMTP_PORT"] = "465"
        environment["SMTP_USER"] = "noreply@decode.example"
        let email = try #require(try self.load(environment).email)
        #expect(email.smtpSecure == true)
        #expect(email.smtpFrom == "noreply@decode.example")
        environment["SMTP_FROM"] = "Decode <hello@decode.example>"
        environment["SMTP_SECURE"] = "false"
        let overridden = try #require(try self.load(environment).email)
        #expect(overridden.smtpFrom == "Decode <hello@decode.example>")
        #expect(overridden.smtpSecure == false)
    }

    @Test func emailWorkerSettingsHaveDefaultsAndShareRedisWithNotifications() throws {
        let email = try #require(try self.load([:], services: [.email]).email)
        #expect(email.maxRetries == 3)
        #expect(email.retryBaseDelayMilliseconds == 1000)
        #expect(email.smtpPoolSize == 5)
        #expect(email.rateLimit == 0)
        #expect(email.idempotencyWindowSeconds == 86_400)
        #expect(email.redisURI == nil)
        var environment = Self.complete
        environment["REDIS_URI"] = "redis://cache:6380"
        environment["EMAIL_MAX_RETRIES"] = "5"
        let both = try self.load(environment)
        #expect(both.email?.redisURI == "redis://cache:6380")
        #expect(both.email?.maxRetries == 5)
        environment["EMAIL_RATE_LIMIT"] = "-1"
        #expect(throws: ConfigurationErrors.self) { try self.load(environment) }
    }

    @Test func redisURIWinsOverTheGatewayFallback() throws {
        var environment = Self.complete
        environment["REDIS_HOST"] = "cache"
        environment["REDIS_PORT"] = "6380"
        environment["REDIS_PASSWORD"] = "pw"
        environment["REDIS_DB"] = "2"
        #expect(try self.load(environment).notifications?.redisURI == "redis://:pw@cache:6380/2")
        environment["REDIS_URI"] = "redis://presence:6379"
        #expect(try self.load(environment).notifications?.redisURI == "redis://presence:6379")
    }

    @Test func effectiveValuesMaskSecrets() {
        var environment = Self.complete
        environment["JWT_ACCESS_TOKEN_SECRET"] = "jwt-signing-key"
        environment["RABBITMQ_URI"] = "amqp://decode:broker-pw@rabbit:5672/prod"
        environment["SMTP_PASS"] = "smtp-pw"
        environment["CONSOLE_TOKEN"] = "console-pw-0123456789"
        var settings = SettingsReader(
            reader: ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: environment))
        )
        _ = DecodeAsyncConfiguration.read(&settings, services: Set(ServiceName.allCases))
        let shown = Dictionary(uniqueKeysWithValues: settings.entries.map { ($0.variable, $0) })
        #expect(shown["JWT_ACCESS_TOKEN_SECRET"]?.shownValue == "***")
        #expect(shown["SMTP_PASS"]?.shownValue == "***")
        #expect(shown["NEO4J_PASSWORD"]?.shownValue == "***")
        #expect(shown["CONSOLE_TOKEN"]?.shownValue == "***")
        #expect(shown["RABBITMQ_URI"]?.shownValue == "amqp://decode:***@rabbit:5672/prod")
        #expect(shown["RABBITMQ_URI"]?.source == .environment)
        #expect(shown["SMTP_HOST"]?.source == .defaultValue)
        #expect(settings.entries.filter { $0.variable == "MONGO_URI" }.count == 1)
        let everything = settings.entries.map(\.shownValue).joined(separator: " ")
        for secret in ["jwt-signing-key", "broker-pw", "smtp-pw", "s3cret-graph", "console-pw-0123456789"] {
            #expect(!everything.contains(secret))
        }
        // Each variable is read once, also when the console shares the flows' Redis and graph.
        for variable in ["REDIS_URI", "NEO4J_URI", "NEO4J_PASSWORD", "MONGO_DB_NAME"] {
            #expect(settings.entries.filter { $0.variable == variable }.count == 1, "\(variable)")
        }
    }

    @Test func theConsoleNeedsItsTokenAndListensOnLoopback() throws {
        #expect(
            self.errors([:], services: [.console]) == [
                "CONSOLE_TOKEN is missing: expected the console's sign-in token (e.g. openssl rand -hex 32)"
            ])
        let configuration = try self.load(["CONSOLE_TOKEN": Self.consoleToken], services: [.console])
        let console = try #require(configuration.console)
        #expect(console.http == HTTPBinding(host: "127.0.0.1", port: 4010))
        #expect(console.queues == ["notification_queue", "email_queue", "neo4j_sync_queue"])
        #expect(console.managementURI == nil)
        #expect(console.redisURI == nil)
        #expect(console.graph == nil)
        #expect(configuration.mongo == nil)
    }

    @Test func theConsoleReadsItsSourcesOrSharesTheFlows() throws {
        var environment = Self.complete
        environment["CONSOLE_TOKEN"] = Self.consoleToken
        environment["CONSOLE_QUEUES"] = " a , b ,,"
        environment["RABBITMQ_MANAGEMENT_URI"] = "http://guest:guest@127.0.0.1:15672"
        environment["REDIS_URI"] = "redis://cache:6380"
        let alone = try #require(try self.load(environment, services: [.console]).console)
        #expect(alone.queues == ["a", "b"])
        #expect(alone.managementURI == "http://guest:guest@127.0.0.1:15672")
        #expect(alone.redisURI == "redis://cache:6380")
        #expect(alone.graph?.uri == "bolt://127.0.0.1:7687")
        #expect(alone.graph?.password == "s3cret-graph")
        // With the notification service, its Redis (REDIS_HOST fallback included).
        environment["REDIS_URI"] = nil
        environment["REDIS_HOST"] = "presence"
        let shared = try self.load(environment, services: [.notifications, .console])
        #expect(shared.console?.redisURI == "redis://presence:6379/0")
        #expect(shared.console?.redisURI == shared.notifications?.redisURI)
    }

    /// A console token long enough for ``ConsoleAuth/minimumTokenLength``.
    static let consoleToken = "console-token-0123456789"

    @Test func aShortConsoleTokenStopsStartUpWithoutShowingIt() throws {
        let problems = self.errors(["CONSOLE_TOKEN": "fifteen-chars!!"], services: [.console])
        #expect(problems.count == 1)
        #expect(problems.first?.hasPrefix("CONSOLE_TOKEN=\"***\" is invalid") == true, "\(problems)")
        #expect(problems.first?.contains("at least 16 characters") == true)
        #expect(problems.first?.contains("fifteen") == false)
        #expect(self.errors(["CONSOLE_TOKEN": "sixteen-chars!!!"], services: [.console]).isEmpty)
    }

    @Test func theConsoleReadsItsAllowedHostsAndCookieFlag() throws {
        let plain = try #require(try self.load(["CONSOLE_TOKEN": Self.consoleToken], services: [.console]).console)
        #expect(plain.allowedHosts.isEmpty)
        #expect(!plain.secureCookie)
        let proxied = try #require(
            try self.load(
                [
                    "CONSOLE_TOKEN": Self.consoleToken, "CONSOLE_ALLOWED_HOSTS": " console.example.com , ops:8443,,",
                    "CONSOLE_SECURE_COOKIE": "true",
                ], services: [.console]
            ).console)
        #expect(proxied.allowedHosts == ["console.example.com", "ops:8443"])
        #expect(proxied.secureCookie)
    }

    @Test func aManagementURIThatIsNotHTTPStopsStartUp() {
        let problems = self.errors(
            ["CONSOLE_TOKEN": Self.consoleToken, "RABBITMQ_MANAGEMENT_URI": "https://rabbit:15671"],
            services: [.console])
        #expect(problems.count == 1)
        #expect(problems.first?.hasPrefix("RABBITMQ_MANAGEMENT_URI=\"https://rabbit:15671\" is invalid") == true)
    }

    @Test func plainServeRunsTheConsoleOnlyWithItsToken() {
        func selection(_ named: [ServiceName], _ environment: [String: String]) -> Set<ServiceName> {
            ServiceName.selection(
                named, reader: ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: environment)))
        }
        #expect(selection([], [:]) == Self.flows)
        #expect(selection([], ["CONSOLE_TOKEN": ""]) == Self.flows)
        #expect(selection([], ["CONSOLE_TOKEN": "t"]) == Self.flows.union([.console]))
        #expect(selection([.email], ["CONSOLE_TOKEN": "t"]) == [.email])
        #expect(selection([.console], [:]) == [.console])
    }

    @Test func processEnvironmentWinsOverDotEnvFile() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("decode-async-\(UUID()).env")
        try "SMTP_PORT=9999\nSMTP_HOST=mail.example\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let reader = try await ConfigurationSource.reader(
            environment: ["SMTP_PORT": "2525"],
            environmentFile: file.path
        )
        let configuration = try DecodeAsyncConfiguration.load(from: reader, services: [.email])
        #expect(configuration.email?.smtpPort == 2525)
        #expect(configuration.email?.smtpHost == "mail.example")
    }

    @Test func maskingLeavesURIsWithoutCredentialsAlone() {
        #expect(SecretMasking.maskURICredentials("redis://127.0.0.1:6379") == "redis://127.0.0.1:6379")
        #expect(SecretMasking.maskURICredentials("redis://secret@host:6379/0") == "redis://***@host:6379/0")
        #expect(SecretMasking.maskURICredentials("plain") == "plain")
        #expect(
            SecretMasking.maskURICredentials("mongodb://u:p%40ss@a,b/db?authSource=admin")
                == "mongodb://u:***@a,b/db?authSource=admin"
        )
    }
}
