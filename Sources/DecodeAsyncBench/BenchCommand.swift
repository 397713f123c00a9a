import AMQPClient
import AMQPProtocol
import ArgumentParser
import Foundation
import NIOCore

/// `decode-async-bench`: the benchmarks, apart from the product. Each command prints figures and never
/// fails on timing; `scripts/bench` (`make bench`) runs them beside a baseline measured on the same
/// servers in the same invocation. Servers are found at the addresses `scripts/stack env` exports
/// (``BenchEnvironment``).
@main
struct DecodeAsyncBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode-async-bench",
        abstract: "Benchmarks of decode-async (figures only; see scripts/bench for the side-by-side run).",
        subcommands: [
            AMQP.self, Mongo.self, SocketIOBench.self, NotificationsBench.self, Email.self, Sync.self,
        ]
    )

    struct AMQP: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "amqp",
            abstract: "Confirmed publish, consume-and-ack, and publish-to-consume latency."
        )

        @Option(help: "Messages per measurement.")
        var messages = 5000

        @Option(help: "Body size in bytes.")
        var size = 256

        @Option(help: "Publishes awaiting their confirm at once in the pipelined run.")
        var window = 64

        func run() async throws {
            let uri = BenchEnvironment.rabbitMQURI
            let connection = try await AMQPConnection.connect(configuration: try AMQPConnectionConfiguration(uri: uri))
            let queue = "bench.decode-async.\(UUID().uuidString.prefix(8))"
            let channel = try await connection.openChannel()
            try await channel.queueDeclare(queue, durable: true, autoDelete: false)
            try await channel.confirmSelect()
            let body = ByteBuffer(repeating: UInt8(ascii: "x"), count: self.size)
            let persistent = AMQPBasicProperties(deliveryMode: 2)

            // 1. Confirmed publish, one at a time (what pika's BlockingConnection does).
            var latencies: [Duration] = []
            var start = ContinuousClock.now
            for _ in 0..<self.messages {
                let sent = ContinuousClock.now
                try await channel.publish(body, routingKey: queue, properties: persistent)
                latencies.append(ContinuousClock.now - sent)
            }
            BenchReport.print(
                "publish, confirm each", count: self.messages, elapsed: ContinuousClock.now - start,
                latencies: latencies)

            // 2. Confirmed publish with `window` confirms outstanding.
            start = ContinuousClock.now
            let windowSize = self.window
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<self.messages {
                    if index >= windowSize {
                        try await group.next()
                    }
                    group.addTask { try await channel.publish(body, routingKey: queue, properties: persistent) }
                }
                try await group.waitForAll()
            }
            BenchReport.print(
                "publish, \(windowSize) in flight", count: self.messages, elapsed: ContinuousClock.now - start,
                latencies: nil)

            // 3. Consume and ack what the two runs queued (prefetch 100).
            let consumerChannel = try await connection.openChannel()
            try await consumerChannel.basicQos(prefetchCount: 100)
            let consumer = try await consumerChannel.consume(queue: queue)
            start = ContinuousClock.now
            var consumed = 0
            for try await delivery in consumer {
                consumerChannel.ack(deliveryTag: delivery.deliveryTag)
                consumed += 1
                if consumed == 2 * self.messages { break }
            }
            BenchReport.print("consume and ack", count: consumed, elapsed: ContinuousClock.now - start, latencies: nil)

            // 4. Publish-to-consume latency: one message at a time through the broker.
            latencies = []
            var iterator = consumer.makeAsyncIterator()
            let samples = min(self.messages, 2000)
            start = ContinuousClock.now
            for _ in 0..<samples {
                let sent = ContinuousClock.now
                try await channel.publish(body, routingKey: queue, properties: persistent)
                guard let delivery = try await iterator.next() else { break }
                latencies.append(ContinuousClock.now - sent)
                consumerChannel.ack(deliveryTag: delivery.deliveryTag)
            }
            BenchReport.print(
                "publish to consume", count: samples, elapsed: ContinuousClock.now - start, latencies: latencies)

            try await consumer.cancel()
            let cleanup = try await connection.openChannel()
            try await cleanup.queueDelete(queue)
            await connection.close()
        }
    }
}

/// One line of figures: `name  messages/s  p50  p99`, the same format `scripts/bench_pika.py` prints.
enum BenchReport {
    static func print(_ name: String, count: Int, elapsed: Duration, latencies: [Duration]?) {
        var line = self.prefix(name, width: 26) + String(format: "%10.0f msg/s", self.rate(count, elapsed))
        if let latencies, !latencies.isEmpty {
            let sorted = latencies.sorted()
            line += String(
                format: "   p50 %7.3f ms   p99 %7.3f ms", self.seconds(sorted[sorted.count / 2]) * 1000,
                self.seconds(sorted[min(sorted.count - 1, sorted.count * 99 / 100)]) * 1000)
        }
        Swift.print(line)
    }

    /// `name  ops/s  CPU µs per operation`, the format `scripts/bench_pymongo.py` prints.
    static func print(_ name: String, count: Int, elapsed: Duration, cpuSeconds: Double) {
        Swift.print(
            self.prefix(name, width: 30)
                + String(
                    format: "%9.0f ops/s   cpu %7.1f µs/op", self.rate(count, elapsed), cpuSeconds / Double(count) * 1e6
                )
        )
    }

    /// `name  detail`, with a wider name column: the notification benchmarks' lines, the format
    /// `scripts/bench_notifications_python.py` prints.
    static func print(_ name: String, detail: String) {
        Swift.print(self.prefix(name, width: 30) + detail)
    }

    /// `  rate msg/s   p50 … ms   p99 … ms` for `count` over `elapsed`.
    static func rateAndLatencies(count: Int, elapsed: Duration, latencies: [Duration]) -> String {
        String(format: "%8.0f msg/s", self.rate(count, elapsed)) + self.percentiles(latencies)
    }

    /// `   p50 … ms   p99 … ms`, or nothing without latencies.
    static func percentiles(_ latencies: [Duration]) -> String {
        guard !latencies.isEmpty else { return "" }
        let sorted = latencies.sorted()
        return String(
            format: "   p50 %9.3f ms   p99 %9.3f ms", self.seconds(sorted[sorted.count / 2]) * 1000,
            self.seconds(sorted[min(sorted.count - 1, sorted.count * 99 / 100)]) * 1000)
    }

    private static func prefix(_ name: String, width: Int) -> String {
        "decode-async  " + name.padding(toLength: width, withPad: " ", startingAt: 0)
    }

    private static func rate(_ count: Int, _ elapsed: Duration) -> Double {
        let seconds = self.seconds(elapsed)
        return seconds > 0 ? Double(count) / seconds : 0
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
