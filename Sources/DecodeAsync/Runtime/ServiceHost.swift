import HTTPServerLimits
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import Observability
import Prometheus

/// One service's HTTP server: `/health`, `/ready` and `/metrics` on the service's own port, plus the
/// service's own routes, and the WebSocket upgrade when the service serves Socket.IO.
struct ServiceHost {
    typealias Context = BasicWebSocketRequestContext

    var name: ServiceName
    var binding: HTTPBinding
    var checks: [ReadinessCheck]
    var registry: PrometheusCollectorRegistry
    var version: String
    /// Adds the service's own routes.
    var routes: (@Sendable (Router<Context>) -> Void)?
    /// Adds WebSocket routes; with them the server accepts upgrades.
    var webSocketRoutes: (@Sendable (Router<Context>) -> Void)?
    var webSocketConfiguration = WebSocketServerConfiguration()
    /// Head timeout, idle timeout and head size of every connection (not of upgraded WebSockets).
    var limits = HTTPLimits()

    /// The Hummingbird application serving this host, as a `Service` for the process's group.
    func makeApplication(logger: Logger) -> some ApplicationProtocol {
        let router = Router(context: Context.self)
        HealthEndpoints(
            service: self.name.displayName, version: self.version, checks: self.checks, registry: self.registry
        )
        .register(on: router)
        self.routes?(router)
        var server = HTTPServerBuilder.http1(limits: self.limits)
        if let webSocketRoutes = self.webSocketRoutes {
            let webSocketRouter = Router(context: Context.self)
            webSocketRoutes(webSocketRouter)
            server = .http1WebSocketUpgrade(
                webSocketRouter: webSocketRouter, configuration: self.webSocketConfiguration, limits: self.limits)
        }
        let name = self.name
        return Application(
            router: router,
            server: server,
            configuration: .init(
                address: .hostname(self.binding.host, port: self.binding.port),
                serverName: "decode-async/\(name.displayName)"
            ),
            onServerRunning: { channel in
                let address = channel.localAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?"
                logger.info(
                    "\(name.displayName) listening: /health, /ready, /metrics",
                    metadata: ["service": "\(name.displayName)", "address": "http://\(address)"]
                )
            },
            logger: logger
        )
    }
}
