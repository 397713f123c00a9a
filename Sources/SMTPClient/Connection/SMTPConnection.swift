import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// One SMTP session on one channel: the handshake is done when ``connect(configuration:eventLoopGroup:logger:)``
/// returns; then messages are sent one at a time, with ``reset()`` between them and ``quit()`` at the end.
public final class SMTPConnection: Sendable {
    let channel: any Channel
    /// What the server announced after the handshake.
    public let capabilities: SMTPCapabilities
    /// Whether the session runs over TLS (implicit or after STARTTLS).
    public let isSecure: Bool
    /// 8bit parts are allowed: the server offers 8BITMIME and the configuration permits it.
    let allows8Bit: Bool

    init(channel: any Channel, capabilities: SMTPCapabilities, isSecure: Bool, allows8Bit: Bool) {
        self.channel = channel
        self.capabilities = capabilities
        self.isSecure = isSecure
        self.allows8Bit = allows8Bit
    }

    /// Whether the channel is still open.
    public var isActive: Bool { self.channel.isActive }

    /// Opens a TCP connection (TLS first when implicit) and runs the handshake.
    ///
    /// - Throws: ``SMTPError``: `connectionFailed`, `timeout`, `tlsRequired`, `tlsFailed`,
    ///   `authenticationFailed`, `rejected` (with the server's reply).
    public static func connect(
        configuration: SMTPConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "decode-async.smtp")
    ) async throws -> SMTPConnection {
        let sslContext: NIOSSLContext?
        do {
            sslContext = configuration.tlsMode == .none ? nil : try NIOSSLContext(configuration: configuration.tls)
        } catch {
            throw SMTPError(.tlsFailed, "invalid TLS configuration", underlying: error)
        }
        let serverHostname = configuration.hostIsIPAddress ? nil : configuration.host
        let eventLoop = eventLoopGroup.next()
        let handshake = eventLoop.makePromise(of: SMTPCompletion.self)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let operations = channel.pipeline.syncOperations
                    if configuration.tlsMode == .implicit, let sslContext {
                        try operations.addHandler(
                            try NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname))
                    }
                    try self.addHandlers(
                        to: operations, configuration: configuration, sslContext: sslContext,
                        serverHostname: serverHostname, handshake: handshake, logger: logger)
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        } catch {
            handshake.fail(SMTPError(.connectionFailed, "could not connect", underlying: error))
            throw SMTPError(
                .connectionFailed, "could not connect to \(configuration.host):\(configuration.port)",
                underlying: error)
        }
        return try await self.finishHandshake(channel: channel, handshake: handshake, configuration: configuration)
    }

    /// Runs the session on a channel that is already connected (tests hand in a scripted channel).
    public static func handshake(
        on channel: any Channel,
        configuration: SMTPConfiguration,
        logger: Logger = Logger(label: "decode-async.smtp")
    ) async throws -> SMTPConnection {
        let handshake = channel.eventLoop.makePromise(of: SMTPCompletion.self)
        let sslContext = configuration.tlsMode == .none ? nil : try? NIOSSLContext(configuration: configuration.tls)
        let serverHostname = configuration.hostIsIPAddress ? nil : configuration.host
        do {
            try await channel.eventLoop.submit {
                try self.addHandlers(
                    to: channel.pipeline.syncOperations, configuration: configuration, sslContext: sslContext,
                    serverHostname: serverHostname, handshake: handshake, logger: logger)
            }.get()
        } catch {
            handshake.fail(error)
            throw error
        }
        return try await self.finishHandshake(channel: channel, handshake: handshake, configuration: configuration)
    }

    private static func addHandlers(
        to operations: ChannelPipeline.SynchronousOperations,
        configuration: SMTPConfiguration,
        sslContext: NIOSSLContext?,
        serverHostname: String?,
        handshake: EventLoopPromise<SMTPCompletion>,
        logger: Logger
    ) throws {
        try operations.addHandler(ByteToMessageHandler(SMTPReplyDecoder()))
        try operations.addHandler(
            SMTPChannelHandler(
                settings: configuration.sessionSettings,
                sslContext: sslContext,
                serverHostname: serverHostname,
                commandTimeout: configuration.commandTimeout,
                dataTimeout: configuration.dataTimeout,
                handshake: handshake,
                logger: logger
            )
        )
    }

    private static func finishHandshake(
        channel: any Channel,
        handshake: EventLoopPromise<SMTPCompletion>,
        configuration: SMTPConfiguration
    ) async throws -> SMTPConnection {
        do {
            guard case .handshake(let capabilities) = try await handshake.futureResult.get() else {
                throw SMTPError(.protocolViolation, "the handshake ended unexpectedly")
            }
            let secure = try await channel.eventLoop.submit {
                (try? channel.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self)) != nil
            }.get()
            return SMTPConnection(
                channel: channel, capabilities: capabilities, isSecure: secure,
                allows8Bit: capabilities.eightBitMIME && configuration.use8BitMIME)
        } catch {
            try? await channel.close()
            throw error
        }
    }

    // MARK: Operations

    /// Encodes and sends one message; returns the server's acceptance reply.
    ///
    /// - Throws: ``SMTPError``; after `rejected` the connection stays usable (send ``reset()``).
    @discardableResult
    public func send(_ message: SMTPMessage) async throws -> SMTPReply {
        let encoded = try SMTPMessageEncoder.encode(message, allow8Bit: self.allows8Bit)
        let transaction = SMTPTransaction(
            from: message.from.address,
            recipients: message.to.map(\.address),
            content: SMTPDataEncoder.content(encoded.bytes),
            eightBit: encoded.eightBit
        )
        return try await self.send(transaction)
    }

    /// Sends a prepared transaction.
    public func send(_ transaction: SMTPTransaction) async throws -> SMTPReply {
        guard case .mail(let reply) = try await self.perform({ .send(transaction, $0) }) else {
            throw SMTPError(.protocolViolation, "the transaction ended unexpectedly")
        }
        return reply
    }

    /// `RSET`.
    public func reset() async throws {
        _ = try await self.perform { .reset($0) }
    }

    /// `QUIT` and close; never throws (a connection that cannot say goodbye is closed anyway).
    public func quit() async {
        _ = try? await self.perform { .quit($0) }
        try? await self.channel.close()
    }

    /// Closes without QUIT.
    public func close() async {
        try? await self.channel.close()
    }

    private func perform(
        _ request: (EventLoopPromise<SMTPCompletion>) -> SMTPRequest
    ) async throws -> SMTPCompletion {
        guard self.channel.isActive else {
            throw SMTPError(.connectionClosed, "the connection is closed")
        }
        let promise = self.channel.eventLoop.makePromise(of: SMTPCompletion.self)
        self.channel.writeAndFlush(request(promise)).whenFailure { error in
            promise.fail(SMTPError(.connectionClosed, "the connection is closed", underlying: error))
        }
        return try await promise.futureResult.get()
    }
}
