import DequeModule
import NIOCore

/// One request written into the pipeline: the command and, unless it expects no reply, a promise.
struct RedisRequest {
    var arguments: [RESPArgument]
    var promise: EventLoopPromise<RESPValue>?
}

/// Encodes requests, decodes replies, and completes promises in order (pipelining); push values
/// go to `onPush`. A reply out of step or a decoding error closes the connection.
final class RedisChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private var router = RedisReplyRouter()
    private var promises = Deque<EventLoopPromise<RESPValue>>()
    private var decoder = NIOSingleStepByteToMessageProcessor(RESPDecoder())
    private var closedError: RedisError?
    private let onPush: @Sendable (RESPValue) -> Void
    let closed: EventLoopPromise<RedisError>

    init(eventLoop: any EventLoop, onPush: @escaping @Sendable (RESPValue) -> Void) {
        self.onPush = onPush
        self.closed = eventLoop.makePromise()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = self.unwrapOutboundIn(data)
        if let closedError {
            request.promise?.fail(closedError)
            promise?.fail(closedError)
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: 64)
        RESPEncoder.encode(request.arguments, into: &buffer)
        if let replyPromise = request.promise {
            self.router.requestSent()
            self.promises.append(replyPromise)
        }
        context.write(self.wrapOutboundOut(buffer), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            try self.decoder.process(buffer: self.unwrapInboundIn(data)) { value in
                switch self.router.received(value) {
                case .reply(let reply):
                    self.promises.popFirst()?.succeed(reply)
                case .push(let push):
                    self.onPush(push)
                case .unexpected:
                    self.fail(RedisError(.protocolViolation, "a reply without a request"), context: context)
                }
            }
        } catch {
            self.fail(RedisError(.protocolViolation, "\(error)"), context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.fail(RedisError(.connectionClosed, "the connection closed"), context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.fail(RedisError(.connectionClosed, "\(error)"), context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.fail(RedisError(.connectionClosed, "the connection closed"), context: context)
    }

    private func fail(_ error: RedisError, context: ChannelHandlerContext) {
        guard self.closedError == nil else { return }
        self.closedError = error
        while let promise = self.promises.popFirst() {
            promise.fail(error)
        }
        self.closed.succeed(error)
        context.close(promise: nil)
    }
}
