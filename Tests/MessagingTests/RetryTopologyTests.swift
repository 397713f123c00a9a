import AMQPClient
import AMQPProtocol
import Testing

@testable import Messaging

@Suite("Retry policy, topology and recent work")
struct RetryTopologyTests {
    @Test func delaysGrowByTheFactor() {
        let policy = RetryPolicy()
        #expect(policy.delay(forAttempt: 1) == .seconds(1))
        #expect(policy.delay(forAttempt: 2) == .seconds(4))
        #expect(policy.delay(forAttempt: 3) == .seconds(16))
        #expect(policy.jitteredDelay(forAttempt: 2, random: 0) == .seconds(4))
        #expect(policy.jitteredDelay(forAttempt: 2, random: 1) == .milliseconds(3200))
    }

    @Test func mainQueueKeepsNestJSDeclarationAndRetriesRouteBack() {
        let topology = QueueTopology(
            queue: "email_queue", retry: RetryPolicy(baseDelay: .milliseconds(500), factor: 2, maxRetries: 2))
        #expect(
            topology.steps == [
                .queue(name: "email_queue", durable: true, exclusive: false, autoDelete: false, arguments: [:]),
                .queue(name: "email_queue.dlq", durable: true, exclusive: false, autoDelete: false, arguments: [:]),
                .queue(
                    name: "email_queue.retry.1", durable: true, exclusive: false, autoDelete: false,
                    arguments: [
                        "x-message-ttl": .int64(500), "x-dead-letter-exchange": "",
                        "x-dead-letter-routing-key": "email_queue",
                    ]
                ),
                .queue(
                    name: "email_queue.retry.2", durable: true, exclusive: false, autoDelete: false,
                    arguments: [
                        "x-message-ttl": .int64(1000), "x-dead-letter-exchange": "",
                        "x-dead-letter-routing-key": "email_queue",
                    ]
                ),
            ]
        )
        #expect(QueueTopology(queue: "q", retry: RetryPolicy(maxRetries: 0)).steps.count == 2)
        #expect(topology.queues == ["email_queue", "email_queue.dlq", "email_queue.retry.1", "email_queue.retry.2"])
    }

    @Test func failuresAreClassified() {
        #expect(QueueConsumer.classify(MessageHandlingError.permanent("bad")) == (true, "bad"))
        #expect(QueueConsumer.classify(MessageHandlingError.transient("later")) == (false, "later"))
        #expect(QueueConsumer.classify(MessageRejection(.invalidData, "data.x is missing")).permanent)
        struct Unknown: Error {}
        #expect(!QueueConsumer.classify(Unknown()).permanent)
    }

    @Test func recentWorkForgetsTheOldestBeyondItsCapacity() {
        let recent = RecentWork<String>(capacity: 3)
        for key in ["a", "b", "c", "d"] {
            recent.insert(key)
        }
        #expect(!recent.contains("a"))
        #expect(recent.contains("b") && recent.contains("c") && recent.contains("d"))
        recent.insert("d")
        recent.insert("e")
        #expect(!recent.contains("b"))
        #expect(recent.contains("e"))
    }

    @Test func recentWorkForgetsAKeyAtOnce() {
        let recent = RecentWork<Int>()
        recent.insert(1)
        recent.insert(2)
        recent.forget([1])
        #expect(!recent.contains(1))
        #expect(recent.contains(2))
    }

    @Test func longErrorsAreTruncatedForHeaders() {
        let long = String(repeating: "x", count: 2000)
        #expect(MessageHeaders.truncate(long).count == MessageHeaders.maxErrorLength)
        #expect(MessageHeaders.truncate("short") == "short")
    }
}
