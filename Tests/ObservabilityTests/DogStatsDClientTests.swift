import CoreMetrics
import Prometheus
import Testing

@testable import Observability

@Suite("DogStatsD over a real UDP socket")
struct DogStatsDClientTests {
    let tags = [("service", "decode-notification"), ("env", "ci")]

    @Test func metricsArriveAsDogStatsDLines() async throws {
        let listener = try await UDPListener.bind()
        let client = DogStatsDClient(configuration: .init(host: "127.0.0.1", port: listener.port))
        let factory = DogStatsDMetricsFactory(client: client, globalTags: self.tags)
        let running = Task { await client.run() }

        factory.makeCounter(label: "queue.message.consumed", dimensions: [("queue_name", "notification_queue")])
            .increment(by: 1)
        factory.makeTimer(label: "queue.message.processing.duration", dimensions: [("error", "true")])
            .recordNanoseconds(12_500_000)
        let gauge = factory.makeMeter(label: "websocket.connections.active", dimensions: [])
        gauge.set(Int64(3))
        gauge.increment(by: 2)
        gauge.decrement(by: 1)
        factory.makeRecorder(label: "batch.size", dimensions: [], aggregate: true).record(Int64(7))

        let received = try await listener.receive(lineCount: 6)
        running.cancel()
        await running.value

        #expect(
            received.lines == [
                "queue.message.consumed:1|c|#service:decode-notification,env:ci,queue_name:notification_queue",
                "queue.message.processing.duration:12.5|ms|#service:decode-notification,env:ci,error:true",
                "websocket.connections.active:3|g|#service:decode-notification,env:ci",
                "websocket.connections.active:5|g|#service:decode-notification,env:ci",
                "websocket.connections.active:4|g|#service:decode-notification,env:ci",
                "batch.size:7|h|#service:decode-notification,env:ci",
            ]
        )
        #expect(client.droppedLines == 0)
    }

    @Test func burstsShareDatagramsWithinThePayloadLimit() async throws {
        let listener = try await UDPListener.bind()
        let client = DogStatsDClient(
            configuration: .init(host: "127.0.0.1", port: listener.port, maxPayloadSize: 512)
        )
        let factory = DogStatsDMetricsFactory(client: client, globalTags: self.tags)
        for index in 0..<200 {
            factory.makeCounter(label: "email.sent", dimensions: [("n", "\(index)")]).increment(by: 1)
        }
        let running = Task { await client.run() }
        let received = try await listener.receive(lineCount: 200)
        running.cancel()
        await running.value

        #expect(received.lines.count == 200)
        #expect(Set(received.lines).count == 200)
        #expect(received.datagrams.count < 200)
        #expect(received.datagrams.allSatisfy { $0.utf8.count <= 512 })
        #expect(client.sentDatagrams == received.datagrams.count)
    }

    @Test func fullBufferDropsAndCountsInsteadOfBlocking() async throws {
        let listener = try await UDPListener.bind()
        let client = DogStatsDClient(
            configuration: .init(host: "127.0.0.1", port: listener.port, bufferCapacity: 10)
        )
        for index in 0..<25 {
            client.send("dropped.test:\(index)|c")
        }
        #expect(client.droppedLines == 15)
        let running = Task { await client.run() }
        let received = try await listener.receive(lineCount: 10)
        running.cancel()
        await running.value
        #expect(received.lines == (0..<10).map { "dropped.test:\($0)|c" })
    }

    @Test func multiplexFeedsDogStatsDAndPrometheus() async throws {
        let listener = try await UDPListener.bind()
        let client = DogStatsDClient(configuration: .init(host: "127.0.0.1", port: listener.port))
        let registry = PrometheusCollectorRegistry()
        let factory = MetricsBootstrap.makeFactory(
            dogStatsD: client,
            prefix: "",
            globalTags: self.tags,
            prometheus: registry
        )
        let running = Task { await client.run() }
        factory.makeCounter(label: "notification.created", dimensions: [("status", "success")]).increment(by: 2)
        let received = try await listener.receive(lineCount: 1)
        running.cancel()
        await running.value

        #expect(received.lines == ["notification.created:2|c|#service:decode-notification,env:ci,status:success"])
        let exposition = registry.emitToString()
        #expect(
            exposition.contains(#"notification_created{service="decode-notification",env="ci",status="success"} 2"#))
    }

    @Test func globalTagsIncludeVersionOnlyWhenSet() {
        #expect(MetricsBootstrap.globalTags(service: "s", env: "e", version: nil).map(\.0) == ["service", "env"])
        #expect(MetricsBootstrap.globalTags(service: "s", env: "e", version: "1.0.0").map(\.1) == ["s", "e", "1.0.0"])
    }
}
