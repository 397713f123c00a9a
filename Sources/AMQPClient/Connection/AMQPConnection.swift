import AMQPProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// One AMQP 0-9-1 connection: many channels over one socket.
///
/// Connect with ``connect(configuration:eventLoopGroup:logger:)``; open channels with
/// ``openChannel()``; ``close()`` says goodbye politely. When the broker closes the connection or the
/// socket drops, every pending call fails with an ``AMQPClientError`` and ``closed()`` returns the
/// reason. This type does not reconnect; ``AMQPClient`` does.
public final class AMQPConnection: Sendable {
    let channel: any Channel
    private let shutdownFuture: EventLoopFuture<AMQPClientError>
    private let isShutDown = NIOLockedValueBox(false)
    private let blockedReason: NIOLockedValueBox<String?>
    let logger: Logger

    private init(
        channel: any Channel,
        shutdown: EventLoopFuture<AMQPClientError>,
        blockedReason: NIOLockedValueBox<String?>,
        logger: Logger
    ) {
        self.channel = channel
        self.shutdownFuture = shutdown
        self.blockedReason = blockedReason
        self.logger = logger
        shutdown.whenComplete { [isShutDown] _ in isShutDown.withLockedValue { $0 = true } }
    }

    /// Connects, authenticates, tunes and opens the virtual host.
    ///
    /// - Throws: ``AMQPClientError``: `connectionFailed` (socket or TLS), `authenticationFailed`,
    ///   `connectionClosedByServer` (e.g. 530 NOT_ALLOWED for an unknown vhost), `timeout`.
    public static func connect(
        configuration: AMQPConnectionConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "decode-async.amqp")
    ) async throws(AMQPClientError) -> AMQPConnection {
        let blockedReason = NIOLockedValueBox<String?>(nil)
        let timeout = TimeAmount(configuration.connectionTimeout)
        let sslContext: NIOSSLContext?
        do {
            sslContext = try configuration.tls.map { try NIOSSLContext(configuration: $0) }
        } catch {
            throw AMQPClientError(.connectionFailed, message: "TLS configuration", underlying: error)
        }
        let host = configuration.host
        // The handler's futures, captured when the pipeline is built: a broker that refuses the
        // login may close the socket (removing the handler) before `connect` returns.
        let futures = NIOLockedValueBox<
            (connected: EventLoopFuture<Void>, shutdown: EventLoopFuture<AMQPClientError>)?
        >(nil)
        let bootstrap = ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        let tls = try NIOSSLClientHandler(context: sslContext, serverHostname: host)
                        try channel.pipeline.syncOperations.addHandler(tls)
                    }
                    let handler = AMQPChannelHandler(
                        configuration: configuration,
                        eventLoop: channel.eventLoop,
                        logger: logger,
                        onBlocked: { reason in blockedReason.withLockedValue { $0 = reason } }
                    )
                    futures.withLockedValue { $0 = (handler.connected.futureResult, handler.shutdown.futureResult) }
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        } catch {
            throw AMQPClientError(
                .connectionFailed,
                message: "\(configuration.host):\(configuration.port)",
                underlying: error
            )
        }
        guard let (connected, shutdown) = futures.withLockedValue({ $0 }) else {
            channel.close(promise: nil)
            throw AMQPClientError(.connectionFailed, message: "the pipeline was not set up")
        }
        let timedOut = NIOLockedValueBox(false)
        let deadline = channel.eventLoop.scheduleTask(in: timeout) {
            timedOut.withLockedValue { $0 = true }
            channel.close(promise: nil)
        }
        do {
            try await connected.get()
            deadline.cancel()
        } catch {
            deadline.cancel()
            if timedOut.withLockedValue({ $0 }) {
                throw AMQPClientError(
                    .timeout, message: "handshake not finished within \(configuration.connectionTimeout)")
            }
            if let error = error as? AMQPClientError {
                throw error
            }
            throw AMQPClientError(.connectionFailed, underlying: error)
        }
        return AMQPConnection(channel: channel, shutdown: shutdown, blockedReason: blockedReason, logger: logger)
    }

    /// Opens a new channel.
    public func openChannel() async throws(AMQPClientError) -> AMQPChannel {
        let promise = self.channel.eventLoop.makePromise(of: UInt16.self)
        self.send(.openChannel(promise))
        let id = try await Self.await(promise.futureResult)
        return AMQPChannel(connection: self, id: id)
    }

    /// Sends `connection.close`, waits for `close-ok` (5 s at most), closes the socket.
    public func close() async {
        let promise = self.channel.eventLoop.makePromise(of: Void.self)
        self.send(.closeConnection(promise: promise))
        try? await promise.futureResult.get()
        try? await self.channel.closeFuture.get()
    }

    /// Starts a polite close without waiting for it (for shutdown handlers, which must not block).
    public func initiateClose() {
        self.send(.closeConnection(promise: self.channel.eventLoop.makePromise(of: Void.self)))
    }

    /// Waits until the connection is gone and returns why.
    public func closed() async -> AMQPClientError {
        (try? await self.shutdownFuture.get()) ?? AMQPClientError(.connectionLost)
    }

    /// Whether the connection still works.
    public var isOpen: Bool { self.channel.isActive && !self.isShutDown.withLockedValue { $0 } }

    /// The reason the broker gave for blocking publishers (`connection.blocked`), nil when not blocked.
    public var blocked: String? { self.blockedReason.withLockedValue { $0 } }

    /// Hands `task` to the handler; if the socket is already closed the write fails and so does the task.
    func send(_ task: AMQPHandlerTask) {
        let written = self.channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { error in
            task.fail(with: AMQPClientError(.connectionLost, message: "the connection is closed", underlying: error))
        }
        self.channel.writeAndFlush(task, promise: written)
    }

    static func await<Value: Sendable>(_ future: EventLoopFuture<Value>) async throws(AMQPClientError) -> Value {
        do {
            return try await future.get()
        } catch let error as AMQPClientError {
            throw error
        } catch {
            throw AMQPClientError(.connectionLost, underlying: error)
        }
    }
}
