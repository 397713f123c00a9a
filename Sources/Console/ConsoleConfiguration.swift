import FlowKit

/// The operations console's settings (docs/console.md).
public struct ConsoleConfiguration: Sendable {
    /// Neo4j for the graph check, when the console has it.
    public struct Graph: Sendable {
        public var uri: String
        public var user: String
        public var password: String
        public var database: String?

        public init(uri: String, user: String, password: String, database: String?) {
            self.uri = uri
            self.user = user
            self.password = password
            self.database = database
        }
    }

    public static let defaultQueues = ["notification_queue", "email_queue", "neo4j_sync_queue"]

    public var http = HTTPBinding(host: "127.0.0.1", port: 4010)
    public var token: String
    /// The main queues shown (their retry queues and `<queue>.dlq` with them).
    public var queues = Self.defaultQueues
    public var managementURI: String?
    public var redisURI: String?
    public var graph: Graph?
    /// `CONSOLE_ALLOWED_HOSTS`: further `Host` names the console answers (``ConsoleHostPolicy``).
    public var allowedHosts: [String] = []
    /// `CONSOLE_SECURE_COOKIE`: the session cookie carries `Secure`.
    public var secureCookie = false

    public init(token: String) {
        self.token = token
    }
}
