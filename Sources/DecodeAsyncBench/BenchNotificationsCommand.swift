import AMQPClient
import ArgumentParser
import Foundation
import Messaging
import MongoStore
import NIOConcurrencyHelpers
import NIOCore
import NotificationService
import SocketIO

extension DecodeAsyncBench {
    /// `decode-async-bench notifications`: NestJS-style `create_notification` emits through RabbitMQ,
    /// the production-configured flow, MongoDB and Socket.IO to connected clients, publish to socket
    /// receipt; or the store's own `insertMany` rate for the same documents and indexes. Each mode
    /// also prints the CPU time the MongoDB server process spent. `scripts/bench` runs every mode on
    /// a freshly restarted store, beside `scripts/bench_notifications_python.py` (a plain consumer).
    struct NotificationsBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "notifications",
            abstract: "Notifications end to end (burst, steady rate) or the store's insertMany ceiling.",
            discussion: """
                burst: N emits published at once for M connected users. rate: R emits/s for S seconds \
                to random users among C connected clients. ceiling: N documents of the flow's shape \
                inserted with insertMany in batches into a collection with the flow's indexes.
                """
        )

        enum Mode: String, ExpressibleByArgument, CaseIterable {
            case burst, rate, ceiling
        }

        @Option(help: "burst, rate or ceiling.")
        var mode: Mode = .burst

        @Option(help: "Notifications to publish (burst) or documents to insert (ceiling).")
        var notifications = 1000

        @Option(help: "Connected users (burst).")
        var users = 10

        @Option(help: "Notifications per second (rate).")
        var rate = 200

        @Option(help: "Seconds of publishing (rate).")
        var seconds = 10

        @Option(help: "Connected clients, one user each (rate).")
        var clients = 2000

        @Option(help: "Documents per insertMany (ceiling).")
        var batch = 100

        @Option(help: "Pid of the MongoDB server process (default: .stack/secantusdb.pid, else a secantusd process).")
        var storePid: Int32?

        func run() async throws {
            let store = BenchStoreProcess.find(pid: self.storePid)
            switch self.mode {
            case .burst:
                try await self.burst(store: store)
            case .rate:
                try await self.steadyRate(store: store)
            case .ceiling:
                try await Self.ceiling(documents: self.notifications, batch: self.batch, store: store)
            }
        }

        // MARK: Burst

        private func burst(store: BenchStoreProcess?) async throws {
            let total = self.notifications
            let userCount = self.users
            try await Self.withFlow { service, flow in
                let users = (0..<userCount).map { _ in BSONObjectID.generate().hex }
                let receipts = BenchReceipts()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    await service.connect(users: users, in: &group, onEvent: receipts.onEvent)
                    var cpu = BenchCPU(store: store)
                    try await cpu.start(afterIdle: .seconds(2))
                    let start = ContinuousClock.now
                    try await withThrowingTaskGroup(of: Void.self) { publishes in
                        for index in 0..<total {
                            let user = users[index % users.count]
                            publishes.addTask { try await Self.emit(flow, user: user, origin: receipts.origin) }
                        }
                        try await publishes.waitForAll()
                    }
                    let outcome = try await receipts.wait(for: total, quiet: .seconds(30))
                    let elapsed = (outcome.last ?? ContinuousClock.now) - start
                    BenchReport.print(
                        "\(total) emits → receipt",
                        detail: BenchReport.rateAndLatencies(
                            count: outcome.latencies.count, elapsed: elapsed, latencies: outcome.latencies)
                            + "   received \(outcome.latencies.count) of \(total), \(userCount) users")
                    try await cpu.printStore(per: total)
                    BenchReport.print(
                        "own cpu per 1,000",
                        detail: String(
                            format: "%8.0f ms   (worker, gateway and %d clients in one process, idle cost taken off)",
                            cpu.ownSeconds(over: elapsed) / Double(total) * 1e6, userCount))
                    group.cancelAll()
                }
            }
        }

        // MARK: Steady rate

        private func steadyRate(store: BenchStoreProcess?) async throws {
            let total = self.rate * self.seconds
            let interval = Duration.seconds(1) / max(self.rate, 1)
            let clientCount = self.clients
            let label = "\(self.rate)/s × \(self.seconds) s, \(clientCount) sockets"
            try await Self.withFlow { service, flow in
                let users = (0..<clientCount).map { _ in BSONObjectID.generate().hex }
                let receipts = BenchReceipts()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    await service.connect(users: users, in: &group, onEvent: receipts.onEvent)
                    var cpu = BenchCPU(store: store)
                    try await cpu.start(afterIdle: .seconds(2))
                    let start = ContinuousClock.now
                    try await withThrowingTaskGroup(of: Void.self) { publishes in
                        for index in 0..<total {
                            try await Task.sleep(until: start + interval * index, clock: .continuous)
                            let user = users.randomElement() ?? users[0]
                            publishes.addTask { try await Self.emit(flow, user: user, origin: receipts.origin) }
                        }
                        try await publishes.waitForAll()
                    }
                    let outcome = try await receipts.wait(for: total, quiet: .seconds(10))
                    BenchReport.print(
                        label,
                        detail: String(format: "received %5d of %5d", outcome.latencies.count, total)
                            + BenchReport.percentiles(outcome.latencies))
                    try await cpu.printStore(per: total)
                    group.cancelAll()
                }
            }
        }

        // MARK: Store ceiling

        /// The store's own `insertMany` rate, one batch at a time, for documents of the flow's shape
        /// (a NestJS emit has no `message_id`, so each carries its body hash) into a collection with
        /// the flow's indexes (``NotificationStore/ensureIndexes()``).
        static func ceiling(documents total: Int, batch: Int, store: BenchStoreProcess?) async throws {
            let suffix = UUID().uuidString.prefix(8).lowercased()
            let mongo = try MongoClient(
                uri: BenchEnvironment.mongoURI,
                database: "decode_bench_ceiling_\(suffix)")
            let collection = try mongo.collection(NotificationStore.collectionName)
            do {
                try await NotificationStore(client: mongo).ensureIndexes()
                let users = (0..<10).map { _ in BSONObjectID.generate() }
                let documents = try (0..<total).map { index in try Self.document(user: users[index % users.count]) }
                var cpu = BenchCPU(store: store)
                try await cpu.start(afterIdle: .seconds(1))
                let start = ContinuousClock.now
                var offset = 0
                while offset < documents.count {
                    let end = min(offset + max(batch, 1), documents.count)
                    _ = try await collection.insertManyReportingErrors(Array(documents[offset..<end]))
                    offset = end
                }
                let elapsed = ContinuousClock.now - start
                BenchReport.print(
                    "store insertMany, \(batch) a batch",
                    detail: BenchReport.rateAndLatencies(count: total, elapsed: elapsed, latencies: [])
                        + "   (\(total) documents, the flow's 5 indexes, one batch at a time)")
                try await cpu.printStore(per: total)
            } catch {
                _ = try? await collection.runWriteCommand(["dropDatabase": .int32(1)])
                try? await mongo.shutdown()
                throw error
            }
            _ = try? await collection.runWriteCommand(["dropDatabase": .int32(1)])
            try? await mongo.shutdown()
        }

        /// A document as the flow stores a `create_notification` without `message_id`
        /// (`NotificationStore.document`, with a body hash).
        static func document(user: BSONObjectID) throws -> BSONDocument {
            let now = Date()
            let request = try CreateNotificationRequest(
                userID: user.hex, type: "bench", title: "bench \(Int64(now.timeIntervalSince1970 * 1e9))", message: "m"
            ).validated()
            let hash = (UUID().uuidString + UUID().uuidString).replacingOccurrences(of: "-", with: "").lowercased()
            return NotificationStore.document(request, messageID: nil, now: now, hash: hash)
        }

        // MARK: Helpers

        private static func withFlow(_ body: @Sendable (BenchService, BenchService.Flow) async throws -> Void)
            async throws
        {
            let suffix = UUID().uuidString.prefix(8).lowercased()
            try await BenchService.run(flow: ("bench.notifications.\(suffix)", "decode_bench_\(suffix)")) {
                service, flow in
                guard let flow else { return }
                try await body(service, flow)
            }
        }

        /// Publishes what NestJS `ClientProxy.emit` publishes: the bare `{"pattern", "data"}` body
        /// with no properties (no `message_id`), not mandatory. The title carries the send time.
        private static func emit(_ flow: BenchService.Flow, user: String, origin: ContinuousClock.Instant)
            async throws
        {
            let sent = Int64((ContinuousClock.now - origin) / .nanoseconds(1))
            let body = try NestEnvelope.encodeEvent(
                pattern: NotificationFlow.pattern,
                data: ["user_id": user, "type": "bench", "title": "bench \(sent)", "message": "m"])
            try await flow.broker.publish(ByteBuffer(bytes: body), routingKey: flow.queue)
        }
    }
}

/// Publish-to-receipt latencies of `notification_received` events whose title carries the send
/// time (nanoseconds since ``origin``), and when the last one arrived.
final class BenchReceipts: Sendable {
    let origin = ContinuousClock.now
    private let state = NIOLockedValueBox<(latencies: [Duration], last: ContinuousClock.Instant?)>(([], nil))

    var onEvent: @Sendable (String, [JSONValue]) -> Void {
        { [self] name, arguments in
            guard name == NotificationDelivery.receivedEvent,
                let title = arguments.first?["data"]?["title"]?.stringValue,
                let sent = Int64(title.dropFirst("bench ".count))
            else { return }
            let now = ContinuousClock.now
            self.state.withLockedValue { state in
                state.latencies.append((now - self.origin) - .nanoseconds(sent))
                state.last = now
            }
        }
    }

    /// Waits until `expected` receipts arrived, or none arrived for `quiet` (never fails on timing).
    func wait(for expected: Int, quiet: Duration) async throws -> (
        latencies: [Duration], last: ContinuousClock.Instant?
    ) {
        let waitStart = ContinuousClock.now
        while true {
            let state = self.state.withLockedValue { $0 }
            let lastProgress = max(state.last ?? waitStart, waitStart)
            if state.latencies.count >= expected || ContinuousClock.now - lastProgress > quiet {
                return state
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
