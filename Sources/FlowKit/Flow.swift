import AMQPClient
import HTTPServerLimits
import Hummingbird
import HummingbirdCore
import Logging
import MongoStore
import Observability
import ServiceLifecycle

/// Where a flow's HTTP server (health, metrics and the flow's own routes) listens.
public struct HTTPBinding: Equatable, Sendable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}

/// What every flow is given by the process that runs it: the clients it shares with the other flows
/// of the process. Each shared client is a `Service` the process runs before the flows, so it closes
/// after them.
public struct FlowDependencies: Sendable {
    /// The process's one broker connection.
    public var broker: AMQPClient
    /// The process's one MongoDB client, when MongoDB is configured.
    public var mongo: MongoClient?
    /// The version the process reports (user agents, health answers).
    public var version: String

    public init(broker: AMQPClient, mongo: MongoClient?, version: String) {
        self.broker = broker
        self.mongo = mongo
        self.version = version
    }

    /// `/ready`'s check of the shared MongoDB client, for the flows that read it.
    public func mongoCheck() -> ReadinessCheck? {
        self.mongo.map { client in ReadinessCheck.shared(name: "mongodb") { try await client.ping() } }
    }
}

/// HTTP routes a flow adds to its port, for any request context.
public protocol RouteGroup: Sendable {
    func register<Context: RequestContext>(on router: Router<Context>)
}

/// What one flow adds to a process, built by the flow's `build(configuration:dependencies:)` from its
/// configuration and the shared ``FlowDependencies``: the flow's long-running services in start
/// order (the process stops them in reverse, so each stops after what uses it), the readiness
/// checks of what it depends on, its HTTP routes, and the HTTP server of its port when it needs its
/// own (Socket.IO's, with the WebSocket upgrade).
public struct FlowParts: Sendable {
    public var services: [any Service]
    public var checks: [ReadinessCheck]
    public var routes: [any RouteGroup]
    /// The port's HTTP server under the process's limits; nil: plain HTTP/1.
    public var httpServer: (@Sendable (HTTPLimits) -> HTTPServerBuilder)?

    public init(
        services: [any Service],
        checks: [ReadinessCheck] = [],
        routes: [any RouteGroup] = [],
        httpServer: (@Sendable (HTTPLimits) -> HTTPServerBuilder)? = nil
    ) {
        self.services = services
        self.checks = checks
        self.routes = routes
        self.httpServer = httpServer
    }
}

/// A setting that passed parsing but cannot be used by the flow.
public struct FlowConfigurationError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
