import AMQPProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// A connection that heals itself: a `Service` that connects, reconnects with exponential backoff
/// when the connection drops, declares again the topology it was given, and restarts its consumers.
///
/// - ``publish(_:exchange:routingKey:mandatory:properties:)`` waits (at most `publishWaitTimeout`)
///   for a connection, publishes on a confirm-mode channel and returns only when the broker
///   confirmed the message; a connection lost before the confirm is an error, so the caller
///   publishes again (at-least-once).
/// - ``consume(queue:prefetch:)`` returns a sequence that survives reconnects; deliveries from a
///   lost connection can no longer be acknowledged and are redelivered by the broker.
public final class AMQPClient: Service, Sendable {
    /// Reconnection and waiting policy.
    public struct Configuration: Sendable {
        /// Where and how to connect; reused for every reconnect.
        public var connection: AMQPConnectionConfiguration
        /// First wait before reconnecting; doubles up to `maximumBackoff`.
        public var initialBackoff: Duration
        /// The longest wait between reconnect attempts; default 15 s.
        public var maximumBackoff: Duration
        /// How long a publish (or channel request) waits for a connection before failing with `notConnected`.
        public var publishWaitTimeout: Duration

        /// Creates a policy; backoff from 250 ms up to 15 s, publishes wait up to 15 s for a connection.
        public init(
            connection: AMQPConnectionConfiguration,
            initialBackoff: Duration = .milliseconds(250),
            maximumBackoff: Duration = .seconds(15),
            publishWaitTimeout: Duration = .seconds(15)
        ) {
            self.connection = connection
            self.initialBackoff = initialBackoff
            self.maximumBackoff = maximumBackoff
            self.publishWaitTimeout = publishWaitTimeout
        }
    }

    struct Live {
        var connection: AMQPConnection
        var publisher: AMQPChannel?
        var newConsumers: AsyncStream<ConsumerRegistration>.Continuation
    }

    struct State {
        var live: Live?
        var topology: [AMQPTopologyStep] = []
        var consumers: [ConsumerRegistration] = []
        var waiters: [UInt64: CheckedContinuation<Live, any Error>] = [:]
        var nextWaiterID: UInt64 = 0
        var shuttingDown = false
        var connectionCount = 0
    }

    let configuration: Configuration
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    let state = NIOLockedValueBox(State())

    /// Creates the client; it connects only once ``run()`` runs (as a service in a `ServiceGroup`).
    /// - Parameters:
    ///   - configuration: The broker to reach and the reconnection policy.
    ///   - eventLoopGroup: Where the connections run; the shared NIO singleton by default.
    ///   - logger: Receives connection and recovery events; never credentials or message bodies.
    public init(
        configuration: Configuration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "decode-async.amqp")
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    /// How many connections were established so far (1 after the first connect; more after recoveries).
    public var connectionCount: Int { self.state.withLockedValue { $0.connectionCount } }

    /// Whether a connection is open right now.
    public var isConnected: Bool { self.state.withLockedValue { $0.live?.connection.isOpen ?? false } }

    // MARK: Service

    /// Connects, and reconnects, until graceful shutdown or until its task is cancelled (a
    /// `ServiceGroup` cancels every service when one throws); either ends it through
    /// ``beginShutdown()``, so `run()` returns once the connection is closed.
    public func run() async throws {
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await self.connectLoop()
            } onGracefulShutdown: {
                self.beginShutdown()
            }
        } onCancel: {
            self.beginShutdown()
        }
    }

    /// Stops reconnecting, closes the connection, fails waiting publishes, ends consumer sequences.
    /// Calling it again does nothing.
    public func beginShutdown() {
        let (live, waiters, consumers) = self.state.withLockedValue {
            state -> (Live?, [CheckedContinuation<Live, any Error>], [ConsumerRegistration]) in
            guard !state.shuttingDown else { return (nil, [], []) }
            state.shuttingDown = true
            defer {
                state.waiters.removeAll()
            }
            return (state.live, Array(state.waiters.values), state.consumers)
        }
        for waiter in waiters {
            waiter.resume(throwing: AMQPClientError(.connectionClosed, message: "the client is shutting down"))
        }
        for consumer in consumers {
            consumer.finish()
        }
        if let live {
            live.newConsumers.finish()
            live.connection.initiateClose()
        }
    }

    private var isShuttingDown: Bool { self.state.withLockedValue { $0.shuttingDown } }

    private func connectLoop() async {
        var backoff = self.configuration.initialBackoff
        while !self.isShuttingDown, !Task.isCancelled {
            do {
                let connection = try await AMQPConnection.connect(
                    configuration: self.configuration.connection,
                    eventLoopGroup: self.eventLoopGroup,
                    logger: self.logger
                )
                backoff = self.configuration.initialBackoff
                await self.serve(connection)
            } catch {
                self.logger.warning(
                    "RabbitMQ connection failed; retrying",
                    metadata: ["error": "\(error)", "retry_in": "\(backoff)"]
                )
            }
            guard !self.isShuttingDown else { break }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, self.configuration.maximumBackoff)
        }
    }

    /// Runs one connection: topology, publisher channel, consumers; returns when it closes.
    private func serve(_ connection: AMQPConnection) async {
        do {
            let setup = try await connection.openChannel()
            for step in self.state.withLockedValue({ $0.topology }) {
                try await step.apply(on: setup)
            }
            await setup.close()
        } catch {
            self.logger.error("declaring the topology failed", metadata: ["error": "\(error)"])
            await connection.close()
            return
        }
        let publisher = try? await self.openPublisher(on: connection)
        let (newConsumers, continuation) = AsyncStream<ConsumerRegistration>.makeStream()
        let live = Live(connection: connection, publisher: publisher, newConsumers: continuation)
        let (waiters, consumers, shuttingDown, count) = self.state.withLockedValue { state in
            state.live = live
            state.connectionCount += 1
            defer { state.waiters.removeAll() }
            return (Array(state.waiters.values), state.consumers, state.shuttingDown, state.connectionCount)
        }
        if shuttingDown {
            continuation.finish()
            await connection.close()
        }
        self.logger.info("RabbitMQ connection open", metadata: ["connection": "\(count)"])
        for waiter in waiters {
            waiter.resume(returning: live)
        }
        for consumer in consumers {
            continuation.yield(consumer)
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                let reason = await connection.closed()
                if !self.isShuttingDown {
                    self.logger.warning("RabbitMQ connection lost", metadata: ["error": "\(reason)"])
                }
                continuation.finish()
            }
            for await consumer in newConsumers {
                group.addTask { await consumer.run(on: connection, logger: self.logger) }
            }
            group.cancelAll()
        }
        self.state.withLockedValue { state in
            if state.live?.connection === connection {
                state.live = nil
            }
        }
    }

    private func openPublisher(on connection: AMQPConnection) async throws(AMQPClientError) -> AMQPChannel {
        let channel = try await connection.openChannel()
        try await channel.confirmSelect()
        return channel
    }

    // MARK: Waiting for a connection

    func waitForLive() async throws -> Live {
        if let live = self.state.withLockedValue({ $0.live }), live.connection.isOpen {
            return live
        }
        let timeout = self.configuration.publishWaitTimeout
        return try await withThrowingTaskGroup(of: Live.self) { group in
            let id = self.state.withLockedValue { state -> UInt64 in
                state.nextWaiterID += 1
                return state.nextWaiterID
            }
            group.addTask {
                try await withTaskCancellationHandler {
                    try await withCheckedThrowingContinuation { continuation in
                        let immediate = self.state.withLockedValue { state -> Result<Live, any Error>? in
                            if state.shuttingDown {
                                return .failure(
                                    AMQPClientError(.connectionClosed, message: "the client is shutting down"))
                            }
                            if let live = state.live, live.connection.isOpen {
                                return .success(live)
                            }
                            state.waiters[id] = continuation
                            return nil
                        }
                        if let immediate {
                            continuation.resume(with: immediate)
                        }
                    }
                } onCancel: {
                    let waiter = self.state.withLockedValue { $0.waiters.removeValue(forKey: id) }
                    waiter?.resume(throwing: CancellationError())
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw AMQPClientError(.notConnected, message: "no RabbitMQ connection within \(timeout)")
            }
            defer { group.cancelAll() }
            guard let live = try await group.next() else { throw AMQPClientError(.notConnected) }
            return live
        }
    }

    // MARK: Public API

    /// Remembers `steps` (re-applied after every reconnect) and applies them now when connected.
    ///
    /// - Throws: the broker's refusal (e.g. 406 PRECONDITION_FAILED for a queue that exists with other
    ///   arguments); the step is then not remembered.
    public func declare(_ steps: [AMQPTopologyStep]) async throws {
        let live = try await self.waitForLive()
        let channel = try await live.connection.openChannel()
        do {
            for step in steps {
                try await step.apply(on: channel)
            }
        } catch {
            await channel.close()
            throw error
        }
        await channel.close()
        self.state.withLockedValue { state in
            for step in steps where !state.topology.contains(step) {
                state.topology.append(step)
            }
        }
    }

    /// Runs `body` with a fresh channel on the current connection (waiting for one), then closes it.
    @discardableResult
    public func withChannel<Result: Sendable>(
        _ body: (AMQPChannel) async throws -> Result
    ) async throws -> Result {
        let live = try await self.waitForLive()
        let channel = try await live.connection.openChannel()
        do {
            let result = try await body(channel)
            await channel.close()
            return result
        } catch {
            await channel.close()
            throw error
        }
    }

    /// Publishes on the shared confirm-mode channel and returns once the broker confirmed it.
    ///
    /// - Throws: ``AMQPClientError``: `notConnected` after waiting `publishWaitTimeout`; `unroutable`
    ///   for a mandatory message no queue took; `publishNacked`; a lost
    ///   connection before the confirm (publish again: the message may or may not be queued).
    public func publish(
        _ body: ByteBuffer,
        exchange: String = "",
        routingKey: String,
        mandatory: Bool = false,
        properties: AMQPBasicProperties = AMQPBasicProperties()
    ) async throws {
        let live = try await self.waitForLive()
        let publisher: AMQPChannel
        if let existing = live.publisher {
            publisher = existing
        } else {
            let opened = try await self.openPublisher(on: live.connection)
            // Concurrent first publishes may each open one: the first stored wins, the others close.
            publisher = self.state.withLockedValue { state -> AMQPChannel in
                guard state.live?.connection === live.connection else { return opened }
                if let existing = state.live?.publisher { return existing }
                state.live?.publisher = opened
                return opened
            }
            if publisher.id != opened.id {
                await opened.close()
            }
        }
        do {
            try await publisher.publish(
                body,
                exchange: exchange,
                routingKey: routingKey,
                mandatory: mandatory,
                properties: properties
            )
        } catch {
            if error.code == .channelClosedByServer || error.code == .channelClosed {
                // e.g. 404 for a missing exchange: the channel is gone, the next publish opens another.
                self.forgetPublisher(publisher, of: live.connection)
            }
            throw error
        }
    }

    /// A consumer on `queue` with at most `prefetch` unacknowledged deliveries, restarted after reconnects.
    public func consume(queue: String, prefetch: UInt16) -> AMQPRecoveringConsumer {
        let (stream, continuation) = AsyncStream<AMQPClientDelivery>.makeStream()
        let registration = ConsumerRegistration(queue: queue, prefetch: prefetch, continuation: continuation)
        let live = self.state.withLockedValue { state -> Live? in
            guard !state.shuttingDown else { return nil }
            state.consumers.append(registration)
            return state.live
        }
        if self.isShuttingDown {
            registration.finish()
        }
        live?.newConsumers.yield(registration)
        return AMQPRecoveringConsumer(registration: registration, deliveries: stream, client: self)
    }

    private func forgetPublisher(_ publisher: AMQPChannel, of connection: AMQPConnection) {
        self.state.withLockedValue { state in
            if state.live?.publisher?.id == publisher.id, state.live?.connection === connection {
                state.live?.publisher = nil
            }
        }
    }

    func remove(_ registration: ConsumerRegistration) {
        self.state.withLockedValue { state in
            state.consumers.removeAll { $0 === registration }
        }
    }
}
