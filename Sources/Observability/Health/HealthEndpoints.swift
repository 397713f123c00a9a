import Foundation
import Hummingbird
import NIOCore
import Prometheus

/// `/health`, `/ready` and `/metrics` for one service's HTTP server.
///
/// - `GET /health` answers 200 while the process runs (liveness).
/// - `GET /ready` runs every ``ReadinessCheck`` concurrently and answers 200 when all are up, 503 otherwise,
///   listing each dependency with its status (readiness).
/// - `GET /metrics` is the Prometheus text exposition of the process's metrics.
public struct HealthEndpoints: Sendable {
    /// The service name shown in the answers (`notification`, `email-worker`, `neo4jdb-sync`).
    public var service: String
    /// The version shown in `/health`.
    public var version: String
    /// The dependencies `/ready` checks.
    public var checks: [ReadinessCheck]
    /// The registry `/metrics` exposes.
    public var registry: PrometheusCollectorRegistry
    private let startedAt = ContinuousClock.now

    /// Creates the endpoints for a service.
    public init(service: String, version: String, checks: [ReadinessCheck], registry: PrometheusCollectorRegistry) {
        self.service = service
        self.version = version
        self.checks = checks
        self.registry = registry
    }

    /// Adds the three routes to `router`.
    public func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("health") { _, _ in self.health() }
        router.get("ready") { _, _ in await self.ready() }
        router.get("metrics") { _, _ in self.metrics() }
    }

    struct Health: Codable {
        var status: String
        var service: String
        var version: String
        var uptimeSeconds: Int

        enum CodingKeys: String, CodingKey {
            case status, service, version
            case uptimeSeconds = "uptime_seconds"
        }
    }

    struct Readiness: Codable {
        var status: String
        var service: String
        var checks: [ReadinessResult]
    }

    func health() -> Response {
        let uptime = (ContinuousClock.now - self.startedAt).components.seconds
        let body = Health(status: "ok", service: self.service, version: self.version, uptimeSeconds: Int(uptime))
        return Self.json(body, status: .ok)
    }

    func ready() async -> Response {
        let results = await withTaskGroup(of: (Int, ReadinessResult).self) { group in
            for (index, check) in self.checks.enumerated() {
                group.addTask { (index, await check.run()) }
            }
            var results = [ReadinessResult?](repeating: nil, count: self.checks.count)
            for await (index, result) in group {
                results[index] = result
            }
            return results.compactMap { $0 }
        }
        let allUp = results.allSatisfy { $0.status == "up" }
        let body = Readiness(status: allUp ? "ready" : "not_ready", service: self.service, checks: results)
        return Self.json(body, status: allUp ? .ok : .serviceUnavailable)
    }

    func metrics() -> Response {
        var bytes: [UInt8] = []
        self.registry.emit(into: &bytes)
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}
