import ArgumentParser

/// The three services decode-async runs; each can run alone or together in one process.
enum ServiceName: String, CaseIterable, Sendable, ExpressibleByArgument {
    case notifications
    case email
    case sync

    /// The name used in logs, health answers and as the default `DD_SERVICE` suffix.
    var displayName: String {
        switch self {
        case .notifications: "notification"
        case .email: "email-worker"
        case .sync: "neo4jdb-sync"
        }
    }
}
