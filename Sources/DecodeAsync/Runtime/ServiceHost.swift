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
    /// The HTTP server under these limits when the service builds its own (Socket.IO's, with the
    /// WebSocket upgrade); nil: plain HTTP/1.
    var httpServer: (@Sendable (HTTPLimits) -> HTTPServerBuilder)?
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
        let server = self.httpServer?(self.limits) ?? HTTPServerBuilder.http1(limits: self.limits)
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
