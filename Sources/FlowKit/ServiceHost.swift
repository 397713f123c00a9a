import HTTPServerLimits
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Observability
import Prometheus

/// One flow's HTTP server: `/health`, `/ready` and `/metrics` on the flow's own port, the flow's
/// routes, on the flow's own HTTP server when it has one (Socket.IO's, with the WebSocket upgrade).
public struct ServiceHost: Sendable {
    public typealias Context = ServiceRequestContext

    /// The service's name in logs and health answers (`notification`, `email-worker`, ...).
    public var name: String
    public var binding: HTTPBinding
    public var checks: [ReadinessCheck]
    public var registry: PrometheusCollectorRegistry
    public var version: String
    public var routes: [any RouteGroup] = []
    /// The HTTP server under ``limits`` when the flow builds its own; nil: plain HTTP/1.
    public var httpServer: (@Sendable (HTTPLimits) -> HTTPServerBuilder)?
    /// Head timeout, idle timeout and head size of every connection (not of upgraded WebSockets).
    public var limits = HTTPLimits()
    /// Pending connections the listener queues.
    public var backlog = 256

    public init(
        name: String, binding: HTTPBinding, checks: [ReadinessCheck], registry: PrometheusCollectorRegistry,
        version: String
    ) {
        self.name = name
        self.binding = binding
        self.checks = checks
        self.registry = registry
        self.version = version
    }

    /// Adds a flow's routes and readiness checks to this host.
    public mutating func add(_ parts: FlowParts) {
        self.checks += parts.checks
        self.routes += parts.routes
        self.httpServer = parts.httpServer ?? self.httpServer
    }

    /// The Hummingbird application serving this host, as a `Service` for the process's group;
    /// `onListening` is told the bound port (useful with port 0).
    public func makeApplication(logger: Logger, onListening: @escaping @Sendable (Int) -> Void = { _ in })
        -> some ApplicationProtocol
    {
        let router = Router(context: Context.self)
        HealthEndpoints(service: self.name, version: self.version, checks: self.checks, registry: self.registry)
            .register(on: router)
        for group in self.routes {
            group.register(on: router)
        }
        let server = self.httpServer?(self.limits) ?? HTTPServerBuilder.http1(limits: self.limits)
        let name = self.name
        return Application(
            router: router,
            server: server,
            configuration: .init(
                address: .hostname(self.binding.host, port: self.binding.port),
                serverName: "decode-async/\(name)",
                backlog: self.backlog
            ),
            onServerRunning: { channel in
                onListening(channel.localAddress?.port ?? 0)
                let address = channel.localAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?"
                logger.info(
                    "\(name) listening: /health, /ready, /metrics",
                    metadata: ["service": "\(name)", "address": "http://\(address)"]
                )
            },
            logger: logger
        )
    }
}
