import AMQPClient
import ArgumentParser
import EmailWorker
import Foundation
import Logging
import Messaging
import NIOConcurrencyHelpers
import Observability
import SMTPClient
import ServiceLifecycle

extension DecodeAsyncBench {
    /// `decode-async-bench email`: N `email_request` events through RabbitMQ, the email worker and
    /// the SMTP pool to an SMTP server (`scripts/bench` starts an aiosmtpd sink of its own): emails/s
    /// and queue-to-SMTP latency (publish until the server accepted the mail).
    struct Email: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "email",
            abstract: "Emails/s and p50/p99 queue-to-SMTP latency through the worker and the SMTP pool."
        )

        @Option(help: "Requests to send.")
        var messages = 500

        @Option(help: "SMTP connections in the pool.")
        var pool = 5

        @Option(help: "Requests handled at once.")
        var concurrency = 10

        @Option(help: "The SMTP server's host (plain SMTP, no TLS, no authentication).")
        var smtpHost = "127.0.0.1"

        @Option(help: "The SMTP server's port.")
        var smtpPort = 2525

        func run() async throws {
            BenchEnvironment.quietLogs()
            var email = EmailConfiguration()
            email.smtpHost = self.smtpHost
            email.smtpPort = self.smtpPort
            email.smtpRequireTLS = false
            email.smtpFrom = "noreply@decode.local"
            email.smtpPoolSize = self.pool
            let sender = try EmailFlow.sender(email)
            let smtp = SMTPClient(configuration: EmailFlow.smtpConfiguration(email))
            let timing = TimingTransport(inner: smtp)
            let worker = EmailRequestHandler(
                templates: try await EmailTemplates.load(), transport: timing, from: sender.address,
                fromName: sender.displayName, ledger: InMemorySentEmailLedger(window: .seconds(600)))
            let broker = AMQPClient(
                configuration: .init(
                    connection: try AMQPConnectionConfiguration(uri: BenchEnvironment.rabbitMQURI)),
                logger: Logger(label: "decode-async.amqp"))
            let queue = "bench.email.\(UUID().uuidString.prefix(8).lowercased())"
            let topology = QueueTopology(queue: queue, retry: RetryPolicy(maxRetries: 0))
            let consumer = QueueConsumer(
                configuration: .init(
                    topology: topology, prefetch: UInt16(self.concurrency * 2), concurrency: self.concurrency),
                client: broker, handlers: [worker.makeHandler()], logger: Logger(label: "decode-async.bench"))
            let group = ServiceGroup(
                configuration: .init(services: [broker, consumer], logger: Logger(label: "decode-async.bench")))
            let count = self.messages
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                while !consumer.isReady {
                    try await Task.sleep(for: .milliseconds(20))
                }
                let publisher = MessagePublisher(client: broker)
                let start = ContinuousClock.now
                for index in 0..<count {
                    let data =
                        #"{"type":"create-account","data":{"email":"bench\#(index)@example.org","otpCode":"\#(String(format: "%06x", index))"}}"#
                    let body = try NestEnvelope.encodeEvent(
                        pattern: EmailRequestHandler.pattern, rawData: Data(data.utf8))
                    timing.published("bench\(index)@example.org")
                    try await publisher.publish(
                        body: body, queue: queue, messageID: UUID().uuidString, messageType: EmailRequestHandler.pattern
                    )
                }
                while timing.completed < count {
                    try await Task.sleep(for: .milliseconds(20))
                }
                let elapsed = ContinuousClock.now - start
                BenchReport.print(
                    "email, pool \(self.pool)", count: count, elapsed: elapsed, latencies: timing.latencies)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            await smtp.shutdown()
            try await BenchQueues.delete(
                topology, broker: try AMQPConnectionConfiguration(uri: BenchEnvironment.rabbitMQURI))
        }
    }
}

/// Wraps the pool: records, per recipient, the time from publish to the server's acceptance.
final class TimingTransport: MailTransport {
    private struct State {
        var published: [String: ContinuousClock.Instant] = [:]
        var latencies: [Duration] = []
    }

    let inner: SMTPClient
    private let state = NIOLockedValueBox(State())

    init(inner: SMTPClient) {
        self.inner = inner
    }

    func published(_ recipient: String) {
        self.state.withLockedValue { $0.published[recipient] = .now }
    }

    var completed: Int { self.state.withLockedValue { $0.latencies.count } }
    var latencies: [Duration] { self.state.withLockedValue { $0.latencies } }

    func send(_ message: SMTPMessage) async throws -> SMTPReply {
        let reply = try await self.inner.send(message)
        let now = ContinuousClock.now
        self.state.withLockedValue { state in
            if let recipient = message.to.first?.address, let start = state.published[recipient] {
                state.latencies.append(now - start)
            }
        }
        return reply
    }
}
