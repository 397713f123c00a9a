import CoreMetrics
import Foundation
import Hummingbird
import HummingbirdTesting
import Prometheus
import Testing

@testable import Observability

@Suite("Health server over HTTP")
struct HealthEndpointsTests {
    func makeApplication(checks: [ReadinessCheck], registry: PrometheusCollectorRegistry) -> some ApplicationProtocol {
        let router = Router()
        HealthEndpoints(service: "email-worker", version: "9.9.9", checks: checks, registry: registry)
            .register(on: router)
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
    }

    @Test func healthAnswersWhileTheProcessRuns() async throws {
        let app = self.makeApplication(checks: [], registry: PrometheusCollectorRegistry())
        try await app.test(.live) { client in
            let response = try await client.execute(uri: "/health", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json; charset=utf-8")
            let body = try self.json(response)
            #expect(body["status"] as? String == "ok")
            #expect(body["service"] as? String == "email-worker")
            #expect(body["version"] as? String == "9.9.9")
        }
    }

    @Test func readyIsServiceUnavailableWhileADependencyIsDown() async throws {
        let checks = [
            ReadinessCheck(name: "rabbitmq") {},
            ReadinessCheck(name: "smtp") { throw ReadinessFailure("connection refused") },
            ReadinessCheck(name: "slow", timeout: .milliseconds(50)) { try await Task.sleep(for: .seconds(30)) },
        ]
        let app = self.makeApplication(checks: checks, registry: PrometheusCollectorRegistry())
        try await app.test(.live) { client in
            let response = try await client.execute(uri: "/ready", method: .get)
            #expect(response.status == .serviceUnavailable)
            let body = try self.json(response)
            #expect(body["status"] as? String == "not_ready")
            let results = try #require(body["checks"] as? [[String: Any]])
            #expect(results.map { $0["name"] as? String } == ["rabbitmq", "smtp", "slow"])
            #expect(results.map { $0["status"] as? String } == ["up", "down", "down"])
            #expect(results[1]["error"] as? String == "connection refused")
            #expect((results[2]["error"] as? String)?.hasPrefix("no answer within") == true)
        }
    }

    @Test func readyIsOKWhenEveryDependencyAnswers() async throws {
        let app = self.makeApplication(
            checks: [ReadinessCheck(name: "rabbitmq") {}, ReadinessCheck(name: "mongodb") {}],
            registry: PrometheusCollectorRegistry()
        )
        try await app.test(.live) { client in
            let response = try await client.execute(uri: "/ready", method: .get)
            #expect(response.status == .ok)
            #expect(try self.json(response)["status"] as? String == "ready")
        }
    }

    @Test func metricsExposeThePrometheusRegistry() async throws {
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        factory.makeCounter(label: "email.sent", dimensions: [("email_type", "welcome-message")]).increment(by: 3)
        let app = self.makeApplication(checks: [], registry: registry)
        try await app.test(.live) { client in
            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = String(buffer: response.body)
            #expect(text.contains("# TYPE email_sent counter"))
            #expect(text.contains(#"email_sent{email_type="welcome-message"} 3"#))
        }
    }
}
