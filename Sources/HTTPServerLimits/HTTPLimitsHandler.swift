import NIOCore
import NIOHTTP1

/// Enforces ``HTTPLimits`` on one HTTP/1 server connection. Sits right after the request decoder,
/// so it sees complete heads, the decoder's errors and every response part; it holds no protocol
/// logic of its own and performs what ``HTTPLimitsStateMachine`` returns. It removes itself when
/// the connection is upgraded (WebSocket).
///
/// The head size limit itself is the decoder's (`NIOHTTPDecoderLimitConfiguration`); this handler
/// turns its `headerOverflow` into `431` and any other parser error before a head into `400`.
final class HTTPLimitsHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// How long a refused connection stays half-closed for the client to read the answer.
    static let linger = TimeAmount.seconds(2)

    private let limits: HTTPLimits
    private let cutMark: HTTPConnectionCutMark
    private var stateMachine = HTTPLimitsStateMachine()
    private var timer: Scheduled<Void>?
    /// Set by the `101` head: the handler leaves at the flush that sends it (leaving inside `write`
    /// would lose the flush of a `writeAndFlush`).
    private var removeAtFlush = false

    init(limits: HTTPLimits, cutMark: HTTPConnectionCutMark = HTTPConnectionCutMark()) {
        self.limits = limits
        self.cutMark = cutMark
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive {
            self.run(self.stateMachine.connectionActivated(), context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.cancelTimer()
    }

    func channelActive(context: ChannelHandlerContext) {
        self.run(self.stateMachine.connectionActivated(), context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.run(self.stateMachine.connectionClosed(), context: context)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let action: HTTPLimitsStateMachine.Action
        switch self.unwrapInboundIn(data) {
        case .head: action = self.stateMachine.headReceived()
        case .body: action = self.stateMachine.bodyReceived()
        case .end: action = self.stateMachine.requestEndReceived()
        }
        context.fireChannelRead(data)
        self.run(action, context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.run(self.stateMachine.readCompleted(), context: context)
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // After a refusal the decoder reports every further read; the connection is lingering.
        guard self.stateMachine.state != .closed else { return }
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        let headTooLarge: Bool
        if case .headerOverflow = parserError { headTooLarge = true } else { headTooLarge = false }
        let action = self.stateMachine.parserErrorReceived(headTooLarge: headTooLarge)
        if action == .none {
            context.fireErrorCaught(error)
        } else {
            self.run(action, context: context)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let action: HTTPLimitsStateMachine.Action
        switch self.unwrapOutboundIn(data) {
        case .head(let head): action = self.stateMachine.responseHeadSent(status: Int(head.status.code))
        case .body: action = .none
        case .end: action = self.stateMachine.responseEndSent()
        }
        context.write(data, promise: promise)
        self.run(action, context: context)
    }

    func flush(context: ChannelHandlerContext) {
        context.flush()
        if self.removeAtFlush {
            self.removeAtFlush = false
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    // MARK: Actions

    private func run(_ action: HTTPLimitsStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .startTimer(let timer):
            self.cancelTimer()
            let delay = timer == .head ? self.limits.headTimeout : self.limits.idleTimeout
            self.timer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(delay)) {
                self.timer = nil
                self.run(self.stateMachine.timerFired(timer), context: context)
            }
        case .cancelTimer:
            self.cancelTimer()
        case .refuseAndClose(let refusal):
            self.cancelTimer()
            self.cutMark.set()
            let status: HTTPResponseStatus
            switch refusal {
            case .requestTimeout: status = .requestTimeout
            case .headerFieldsTooLarge: status = .requestHeaderFieldsTooLarge
            case .badRequest: status = .badRequest
            }
            let head = HTTPResponseHead(
                version: .http1_1, status: status, headers: ["Connection": "close", "Content-Length": "0"])
            context.write(self.wrapOutboundOut(.head(head)), promise: nil)
            context.writeAndFlush(self.wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                // Half-close, then close after a short linger: closing with unread input (the rest of
                // an oversized head) would send a reset that can destroy the answer at the client.
                context.close(mode: .output).assumeIsolated().whenFailure { _ in context.close(promise: nil) }
                context.eventLoop.assumeIsolated().scheduleTask(in: Self.linger) {
                    context.close(promise: nil)
                }
            }
        case .close:
            self.cancelTimer()
            self.cutMark.set()
            context.close(promise: nil)
        case .removeHandler:
            self.cancelTimer()
            self.removeAtFlush = true
        }
    }

    private func cancelTimer() {
        self.timer?.cancel()
        self.timer = nil
    }
}

@available(*, unavailable)
extension HTTPLimitsHandler: Sendable {}
