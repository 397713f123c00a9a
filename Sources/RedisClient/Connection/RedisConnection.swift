import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// One connection: `HELLO 3` (with AUTH and SETNAME), `SELECT`, then pipelined commands.
public final class RedisConnection: Sendable {
    let channel: any Channel
    let closedFuture: EventLoopFuture<RedisError>
    let commandTimeout: Duration
    private let isClosed = NIOLockedValueBox(false)

    private init(channel: any Channel, closed: EventLoopFuture<RedisError>, commandTimeout: Duration) {
        self.channel = channel
        self.closedFuture = closed
        self.commandTimeout = commandTimeout
        closed.whenComplete { [isClosed] _ in isClosed.withLockedValue { $0 = true } }
    }

    /// Connects and logs in; `onPush` receives RESP3 push values (pub/sub messages).
    ///
    /// - Throws: ``RedisError``: `connectionFailed`, `authenticationFailed` (WRONGPASS, NOAUTH),
    ///   `unsupported` (no RESP3), `server` (e.g. SELECT of a missing database).
    public static func connect(
        _ configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        onPush: @escaping @Sendable (RESPValue) -> Void = { _ in }
    ) async throws -> RedisConnection {
        let sslContext: NIOSSLContext?
        do {
            sslContext = try configuration.tls.map { try NIOSSLContext(configuration: $0) }
        } catch {
            throw RedisError(.connectionFailed, "TLS configuration: \(error)")
        }
        let host = configuration.host
        let closed = NIOLockedValueBox<EventLoopFuture<RedisError>?>(nil)
        let timeout = configuration.connectTimeout
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoopGroup)
                .connectTimeout(TimeAmount(timeout))
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let sslContext {
                            try channel.pipeline.syncOperations.addHandler(
                                try NIOSSLClientHandler(context: sslContext, serverHostname: host)
                            )
                        }
                        let handler = RedisChannelHandler(eventLoop: channel.eventLoop, onPush: onPush)
                        closed.withLockedValue { $0 = handler.closed.futureResult }
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
                .connect(host: configuration.host, port: configuration.port)
                .get()
        } catch {
            throw RedisError(.connectionFailed, "\(configuration.host):\(configuration.port): \(error)")
        }
        guard let closedFuture = closed.withLockedValue({ $0 }) else {
            channel.close(promise: nil)
            throw RedisError(.connectionFailed, "the pipeline was not set up")
        }
        let connection = RedisConnection(
            channel: channel, closed: closedFuture, commandTimeout: configuration.commandTimeout)
        do {
            try await connection.handshake(configuration)
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    private func handshake(_ configuration: RedisConfiguration) async throws {
        var hello: [RESPArgument] = ["HELLO", "3"]
        if let password = configuration.password {
            hello += ["AUTH", .string(configuration.username ?? "default"), .string(password)]
        }
        hello += ["SETNAME", .string(configuration.clientName)]
        do {
            _ = try await self.send(hello)
        } catch let error as RedisError where error.kind == .server {
            switch error.serverCode {
            case "WRONGPASS", "NOAUTH", "NOPERM":
                throw RedisError(.authenticationFailed, error.message)
            default:
                throw RedisError(
                    .unsupported, "the server refused HELLO 3 (\(error.message)); Redis 6 or later is needed")
            }
        }
        if configuration.database != 0 {
            _ = try await self.send(["SELECT", .string(String(configuration.database))])
        }
    }

    /// Whether the connection still works.
    public var isOpen: Bool { !self.isClosed.withLockedValue { $0 } && self.channel.isActive }

    /// Sends one command and returns its reply; commands from many tasks are pipelined.
    ///
    /// - Throws: ``RedisError`` `server` for an error reply; `timeout` after `commandTimeout` (the
    ///   connection is then closed, since later replies could no longer be matched).
    public func send(_ arguments: [RESPArgument]) async throws -> RESPValue {
        let promise = self.channel.eventLoop.makePromise(of: RESPValue.self)
        let timeout = self.commandTimeout
        let channel = self.channel
        let timer = channel.eventLoop.scheduleTask(
            in: TimeAmount(timeout)
        ) {
            promise.fail(RedisError(.timeout, "no reply within \(timeout)"))
            channel.close(promise: nil)
        }
        self.channel.writeAndFlush(RedisRequest(arguments: arguments, promise: promise)).whenFailure { error in
            promise.fail(RedisError(.connectionClosed, "\(error)"))
        }
        let reply: RESPValue
        do {
            reply = try await promise.futureResult.get()
            timer.cancel()
        } catch {
            timer.cancel()
            throw error
        }
        if case .error(let message) = reply {
            throw RedisError(.server, message)
        }
        return reply
    }

    /// Sends a command that has no regular reply in RESP3 (SUBSCRIBE and friends answer with pushes).
    func sendWithoutReply(_ arguments: [RESPArgument]) async throws {
        do {
            try await self.channel.writeAndFlush(RedisRequest(arguments: arguments, promise: nil)).get()
        } catch {
            throw RedisError(.connectionClosed, "\(error)")
        }
    }

    /// Waits until the connection is gone.
    public func closed() async -> RedisError {
        (try? await self.closedFuture.get()) ?? RedisError(.connectionClosed, "closed")
    }

    /// Closes the socket; pending commands fail with `connectionClosed`.
    public func close() {
        self.channel.close(promise: nil)
    }
}
