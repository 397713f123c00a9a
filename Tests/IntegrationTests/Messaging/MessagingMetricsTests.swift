import AMQPProtocol
import CoreMetrics
import Messaging
import MetricsTestKit
import Testing

/// The process-wide metrics backend of the integration tests: swift-metrics' test kit, installed once.
enum TestMetricsBackend {
    static let metrics: TestMetrics = {
        let metrics = TestMetrics()
        MetricsSystem.bootstrap(metrics)
        return metrics
    }()
}

/// The metric names and tags of COMPAT.md section 6, emitted by the messaging layer.
@Suite("Messaging metrics")
struct MessagingMetricsTests {
    /// Sum of every counter named `label` whose tags include all of `tags`.
    func total(_ label: String, _ tags: [(String, String)]) -> Int64 {
        TestMetricsBackend.metrics.counters(label: label)
            .filter { counter in tags.allSatisfy { tag in counter.dimensions.contains { $0 == tag } } }
            .reduce(0) { $0 + $1.totalValue }
    }

    @Test func consumedRetriedDeadLetteredAndPublishedAreCountedWithBoundedTags() async throws {
        let metrics = TestMetricsBackend.metrics
        try await BrokerLock.shared {
            let queue = TestEnvironment.uniqueName("test.metrics")
            let handler = MessageHandler(
                pattern: "create_notification",
                payload: NotificationPayload.self,
                messageType: { $0.type }
            ) { payload, _ in
                switch payload.title {
                case "fail later": throw MessageHandlingError.transient("database unavailable")
                case "fail now": throw MessageHandlingError.permanent("invalid recipient")
                default: return
                }
            }
            try await MessagingHarness.run(queue: queue, handlers: [handler]) { harness in
                let publisher = MessagePublisher(client: harness.client)
                for title in ["ok", "fail later", "fail now"] {
                    let payload = NotificationPayload(
                        userID: "665f1c2e9b1d4a0012345678", type: "new_follow", title: title, message: "m")
                    try await publisher.emit(pattern: "create_notification", data: payload, queue: queue)
                }
                try await eventually("both failures are dead-lettered") {
                    try await MessagingHarness.depth(of: harness.topology.deadLetterQueue) == 2
                }
                try await eventually("the depth gauge saw them") {
                    metrics.recorders(label: "queue.dlq.depth", dimensions: [("queue_name", "\(queue).dlq")])
                        .contains { $0.lastValue == 2 }
                }
            }
            let tags = [("queue_name", queue), ("message_type", "new_follow")]
            // 1 ok + 3 attempts of "fail later" + 1 "fail now".
            #expect(self.total("queue.message.consumed", tags) == 5)
            #expect(self.total("queue.message.retried", tags) == 2)
            #expect(self.total("queue.message.dead_lettered", tags + [("reason", "retries_exhausted")]) == 1)
            #expect(self.total("queue.message.dead_lettered", tags + [("reason", "permanent")]) == 1)
            #expect(self.total("queue.message.failed", tags + [("operation", "consume")]) == 2)
            #expect(
                self.total("queue.message.published", [("queue_name", queue), ("message_type", "create_notification")])
                    == 3)
            let timers = metrics.timers(label: "queue.message.processing.duration")
                .filter { timer in timer.dimensions.contains { $0 == ("queue_name", queue) } }
            #expect(timers.filter { $0.dimensions.contains { $0 == ("error", "true") } }.flatMap(\.values).count == 4)
            #expect(timers.filter { !$0.dimensions.contains { $0 == ("error", "true") } }.flatMap(\.values).count == 1)
            // No user id ever becomes a tag.
            let everyTag = metrics.counters.flatMap(\.dimensions) + metrics.timers.flatMap(\.dimensions)
            #expect(!everyTag.contains { $0.0 == "user_id" || $0.1 == "665f1c2e9b1d4a0012345678" })
        }
    }
}
