import Console
import FlowKit
import Foundation
import GraphSync

/// Reads the operations console's settings (docs/console.md): it runs with `serve console`, or with
/// plain `serve` whenever `CONSOLE_TOKEN` is set.
extension ConsoleConfiguration {
    /// `sharedRedisURI`/`sharedGraph`: what the services of the same process already read (each
    /// variable is read once); `redisRead`: whether `REDIS_URI` was already read (then its absence
    /// is final).
    init(_ settings: inout SettingsReader, sharedRedisURI: String?, redisRead: Bool, sharedGraph: Graph?) {
        // The defaults, read before the required token (errors are reported in reading order).
        let defaults = ConsoleConfiguration(token: "")
        let http = HTTPBinding(
            host: settings.string("CONSOLE_HOST", default: defaults.http.host) ?? defaults.http.host,
            port: settings.port("CONSOLE_PORT", default: defaults.http.port))
        self.init(
            token: settings.requiredString(
                "CONSOLE_TOKEN", secret: true, expected: "the console's sign-in token (e.g. openssl rand -hex 32)"))
        if !self.token.isEmpty, self.token.count < ConsoleAuth.minimumTokenLength {
            settings.invalid(
                "CONSOLE_TOKEN", value: self.token, secret: true,
                expected: "at least \(ConsoleAuth.minimumTokenLength) characters (e.g. openssl rand -hex 32)")
        }
        self.http = http
        self.allowedHosts = (settings.string("CONSOLE_ALLOWED_HOSTS") ?? "")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        self.secureCookie = settings.bool("CONSOLE_SECURE_COOKIE", default: defaults.secureCookie)
        self.queues = (settings.string("CONSOLE_QUEUES", default: Self.defaultQueues.joined(separator: ",")) ?? "")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if self.queues.isEmpty {
            self.queues = Self.defaultQueues
        }
        self.managementURI = settings.uri("RABBITMQ_MANAGEMENT_URI", schemes: ["http"])
        if let uri = self.managementURI, ManagementAPI(uri: uri) == nil {
            settings.invalid(
                "RABBITMQ_MANAGEMENT_URI", value: uri,
                expected: "http://[user:password@]host[:port] of the management API")
        }
        if redisRead {
            self.redisURI = sharedRedisURI
        } else {
            self.redisURI = settings.uri("REDIS_URI", schemes: ["redis", "rediss"])
        }
        if let sharedGraph {
            self.graph = sharedGraph
        } else if let uri = settings.uri("NEO4J_URI", schemes: SyncConfiguration.neo4jSchemes) {
            self.graph = Graph(
                uri: uri,
                user: settings.requiredString("NEO4J_USER", expected: "the Neo4j user name"),
                password: settings.requiredString("NEO4J_PASSWORD", secret: true, expected: "the Neo4j password"),
                database: settings.string("NEO4J_DATABASE"))
        }
    }
}
