import Foundation
import Logging
import Observability

/// Where the benchmarks find the servers: the addresses `scripts/stack env` exports, else the local
/// stack's defaults. The benchmarks read nothing else from the environment: what they measure is
/// chosen with their options.
enum BenchEnvironment {
    private static let variables = ProcessInfo.processInfo.environment

    static let rabbitMQURI = Self.variables["RABBITMQ_URI"] ?? "amqp://guest:guest@127.0.0.1:5672"
    static let mongoURI = Self.variables["MONGO_URI"] ?? "mongodb://127.0.0.1:27017"
    static let redisURI = Self.variables["REDIS_URI"] ?? "redis://127.0.0.1:6379"
    static let neo4jURI = Self.variables["NEO4J_URI"] ?? "bolt://127.0.0.1:7687"
    static let neo4jUser = Self.variables["NEO4J_USER"] ?? "root"
    static let neo4jPassword = Self.variables["NEO4J_PASSWORD"] ?? ""
}

extension BenchEnvironment {
    private static let logging: Void = LoggingBootstrap.bootstrap(format: .logfmt, level: .warning)

    /// Warnings and errors only, so that the figures stand alone (once per process).
    static func quietLogs() {
        _ = Self.logging
    }
}
