import ArgumentParser
import Configuration

/// The services decode-async runs; each can run alone or together in one process.
enum ServiceName: String, CaseIterable, Sendable, ExpressibleByArgument {
    case notifications
    case email
    case sync
    /// The operations console (docs/console.md).
    case console

    /// The name used in logs, health answers and as the default `DD_SERVICE` suffix.
    var displayName: String {
        switch self {
        case .notifications: "notification"
        case .email: "email-worker"
        case .sync: "neo4jdb-sync"
        case .console: "console"
        }
    }

    /// The services of `serve` and `config`: those named, or without names the three flows, and
    /// the console when `CONSOLE_TOKEN` is set.
    static func selection(_ named: [ServiceName], reader: ConfigReader) -> Set<ServiceName> {
        guard named.isEmpty else { return Set(named) }
        var all: Set<ServiceName> = [.notifications, .email, .sync]
        if let token = reader.string(forKey: ConfigKey("CONSOLE_TOKEN"), isSecret: true), !token.isEmpty {
            all.insert(.console)
        }
        return all
    }
}
