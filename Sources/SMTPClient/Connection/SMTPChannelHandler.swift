import Logging
import NIOCore
import NIOSSL
import NIOTLS

/// Runs the ``SMTPStateMachine`` on a channel: each reply, TLS event, timeout and close becomes
/// one state-machine call, and the handler only performs the returned action.
final class SMTPChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = SMTPReply
    typealias OutboundIn = SMTPRequest
    typealias OutboundOut = ByteBuffer

    private var machine: SMTPStateMachine
    private var pending: EventLoopPromise<SMTPCompletion>?
    private var timer: Scheduled<Void>?
    private let sslContext: NIOSSLContext?
    private let serverHostname: String?
    private let commandTimeout: TimeAmount
    private let dataTimeout: TimeAmount
    private let logger: Logger
    private var context: ChannelHandlerContext?

    /// `handshake` completes when the session is ready (greeting, EHLO, STARTTLS, AUTH done).
    init(
        settings: SMTPSessionSettings,
        sslContext: NIOSSLContext?,
        serverHostname: String?,
        commandTimeout: Duration,
        dataTimeout: Duration,
        handshake: EventLoopPromise<SMTPCompletion>,
        logger: Logger
    ) {
        self.machine = SMTPStateMachine(settings: settings)
        self.sslContext = sslContext
        self.serverHostname = serverHostname
        self.commandTimeout = TimeAmount(commandTimeout)
        self.dataTimeout = TimeAmount(dataTimeout)
        self.pending = handshake
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive {
            self.armTimer(context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.timer?.cancel()
    }

    func channelActive(context: ChannelHandlerContext) {
        self.armTimer(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = self.unwrapInboundIn(data)
        self.logger.trace("reply", metadata: ["code": "\(reply.code)"])
        self.run(self.machine.replyReceived(reply), context: context)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = self.unwrapOutboundIn(data)
        promise?.succeed()
        let requestPromise: EventLoopPromise<SMTPCompletion>
        switch request {
        case .send(_, let promise), .reset(let promise), .quit(let promise): requestPromise = promise
        }
        guard self.pending == nil else {
            requestPromise.fail(SMTPError(.protocolViolation, "another operation is in flight on this connection"))
            return
        }
        let action: SMTPStateMachine.Action
        switch request {
        case .send(let transaction, _): action = self.machine.sendMail(transaction)
        case .reset: action = self.machine.reset()
        case .quit: action = self.machine.quit()
        }
        self.pending = requestPromise
        self.run(action, context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event, self.upgrading {
            self.upgrading = false
            self.run(self.machine.tlsEstablished(), context: context)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let smtpError: SMTPError
        switch error {
        case let error as SMTPError: smtpError = error
        case let error as NIOSSLError: smtpError = SMTPError(.tlsFailed, "TLS handshake failed", underlying: error)
        case let error as BoringSSLError: smtpError = SMTPError(.tlsFailed, "TLS failed", underlying: error)
        default: smtpError = SMTPError(.connectionClosed, "the connection failed", underlying: error)
        }
        self.run(self.machine.errorCaught(smtpError), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.run(self.machine.closed(), context: context)
        context.fireChannelInactive()
    }

    // MARK: Actions

    private var upgrading = false

    private func run(_ action: SMTPStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .send(let commands):
            var buffer = context.channel.allocator.buffer(capacity: 64 * commands.count)
            for command in commands {
                command.write(into: &buffer)
            }
            self.logger.trace("sending", metadata: ["commands": "\(commands.map(\.verb))"])
            context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
            self.armTimer(context: context)
        case .sendContent(let content):
            context.writeAndFlush(self.wrapOutboundOut(content), promise: nil)
            self.armTimer(context: context)
        case .startTLS:
            self.startTLS(context: context)
        case .succeed(let completion):
            self.timer?.cancel()
            let promise = self.pending
            self.pending = nil
            promise?.succeed(completion)
            if case .quit = completion {
                context.close(promise: nil)
            }
        case .fail(let error, let close):
            self.timer?.cancel()
            let promise = self.pending
            self.pending = nil
            promise?.fail(error)
            if close {
                context.close(promise: nil)
            }
        case .close:
            self.timer?.cancel()
            let promise = self.pending
            self.pending = nil
            promise?.succeed(.quit)
            context.close(promise: nil)
        case .wait:
            if self.pending != nil {
                self.armTimer(context: context)
            }
        }
    }

    private func startTLS(context: ChannelHandlerContext) {
        guard let sslContext = self.sslContext else {
            self.run(self.machine.errorCaught(SMTPError(.tlsFailed, "no TLS configuration")), context: context)
            return
        }
        do {
            let tls = try NIOSSLClientHandler(context: sslContext, serverHostname: self.serverHostname)
            try context.pipeline.syncOperations.addHandler(tls, position: .first)
            self.upgrading = true
            self.armTimer(context: context)
        } catch {
            self.run(
                self.machine.errorCaught(SMTPError(.tlsFailed, "TLS could not start", underlying: error)),
                context: context
            )
        }
    }

    private func armTimer(context: ChannelHandlerContext) {
        self.timer?.cancel()
        let timeout = self.machine.awaitingEndOfData ? self.dataTimeout : self.commandTimeout
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let contextBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        self.timer = context.eventLoop.scheduleTask(in: timeout) {
            let handler = loopBound.value
            guard handler.context != nil else { return }
            handler.run(handler.machine.timedOut(), context: contextBound.value)
        }
    }
}
