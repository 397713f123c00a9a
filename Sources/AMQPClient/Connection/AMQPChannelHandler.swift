import AMQPProtocol
import DequeModule
import Logging
import NIOCore
import NIOSSL

/// Runs the AMQP protocol on one socket: decodes frames, feeds them to the connection and channel
/// state machines, and performs the actions they return (write frames, complete promises, yield
/// deliveries). It holds no protocol decisions of its own.
final class AMQPChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = AMQPHandlerTask
    typealias OutboundOut = ByteBuffer

    /// Everything the handler keeps for one open channel besides its state machine (which keeps the
    /// publishes awaiting their confirms).
    struct ChannelContext {
        var machine: AMQPChannelStateMachine
        var openPromise: EventLoopPromise<UInt16>?
        var replies = Deque<EventLoopPromise<AMQPReply>>()
        var consumers: [String: AMQPDeliverySink] = [:]
        var returns: AsyncStream<AMQPReturnedMessage>.Continuation?
        var closePromise: EventLoopPromise<Void>?
    }

    private var connection: AMQPConnectionStateMachine
    private var decoder: NIOSingleStepByteToMessageProcessor<AMQPFrameDecoder>
    private var channels: [UInt16: ChannelContext] = [:]
    private var nextChannelID: UInt16 = 1
    private var frameMax = 131_072
    private var channelMax: UInt16 = 2047
    private var heartbeatTask: RepeatedTask?
    private var context: ChannelHandlerContext?
    private var closePromises: [EventLoopPromise<Void>] = []
    private var shutdownError: AMQPClientError?
    private let logger: Logger

    /// Completes when the connection is open (after `open-ok`), fails if it never gets there.
    let connected: EventLoopPromise<Void>
    /// Completes with the reason once the connection is gone.
    let shutdown: EventLoopPromise<AMQPClientError>
    private let onBlocked: @Sendable (String?) -> Void

    init(
        configuration: AMQPConnectionConfiguration,
        eventLoop: any EventLoop,
        logger: Logger,
        onBlocked: @escaping @Sendable (String?) -> Void
    ) {
        self.connection = AMQPConnectionStateMachine(configuration: configuration)
        self.decoder = NIOSingleStepByteToMessageProcessor(AMQPFrameDecoder())
        self.connected = eventLoop.makePromise()
        self.shutdown = eventLoop.makePromise()
        self.logger = logger
        self.onBlocked = onBlocked
    }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive {
            self.run(self.connection.connected(), context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // A socket that never became active (connection refused) still completes every promise.
        self.shutDown(AMQPClientError(.connectionLost, message: "the socket closed"), context: context)
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        self.run(self.connection.connected(), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.run(self.connection.channelInactive(), context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is NIOSSLError || error is BoringSSLError {
            let failure = AMQPClientError(.connectionFailed, message: "TLS handshake failed", underlying: error)
            self.run(self.connection.errorHappened(failure), context: context)
            return
        }
        self.run(self.connection.errorHappened(error), context: context)
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = self.unwrapInboundIn(data)
        do {
            try self.decoder.process(buffer: buffer) { frame in
                self.run(self.connection.frameReceived(frame), context: context)
            }
        } catch {
            self.run(self.connection.errorHappened(error), context: context)
        }
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let task = self.unwrapOutboundIn(data)
        promise?.succeed()
        if let error = self.shutdownError {
            task.fail(with: error)
            return
        }
        switch task {
        case .openChannel(let promise):
            self.openChannel(promise: promise, context: context)
        case .request(let channelID, let method, let promise):
            guard var channel = self.openChannelContext(channelID, failing: promise) else { return }
            // Encoded first: a request that never reaches the broker must not wait for a reply.
            guard let buffer = self.encode([.method(channel: channelID, method)], failing: promise, context: context)
            else { return }
            if let promise {
                channel.machine.requestSent()
                channel.replies.append(promise)
            }
            self.channels[channelID] = channel
            context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
        case .publish(let channelID, let publish, let properties, let body, let confirmed):
            guard var channel = self.openChannelContext(channelID, failing: confirmed) else { return }
            // Encoded first: a publish the broker never sees takes no delivery tag, so later confirms
            // still name the right publishes.
            let frames = self.contentFrames(channelID: channelID, publish: publish, properties: properties, body: body)
            guard let buffer = self.encode(frames, failing: confirmed, context: context) else { return }
            let tag = channel.machine.messagePublished(confirmed: confirmed)
            self.channels[channelID] = channel
            context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
            if tag == nil {
                confirmed.succeed()
            }
        case .consume(let channelID, let consume, let sink, let promise):
            guard var channel = self.openChannelContext(channelID, failing: promise) else {
                sink.finish(throwing: AMQPClientError(.channelClosed))
                return
            }
            guard
                let buffer = self.encode(
                    [.method(channel: channelID, .basic(.consume(consume)))], failing: promise, context: context)
            else {
                sink.finish(throwing: AMQPClientError(.invalidArgument, message: "basic.consume not encoded"))
                return
            }
            channel.consumers[consume.consumerTag] = sink
            channel.machine.requestSent()
            channel.replies.append(promise)
            self.channels[channelID] = channel
            context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
        case .setReturnSink(let channelID, let continuation):
            self.channels[channelID]?.returns = continuation
        case .closeChannel(let channelID, let promise):
            guard var channel = self.channels[channelID] else {
                promise.succeed()
                return
            }
            channel.closePromise = promise
            let action = channel.machine.closeRequested()
            self.channels[channelID] = channel
            self.runChannel(action, channelID: channelID, context: context)
        case .closeConnection(let promise):
            self.closePromises.append(promise)
            self.run(self.connection.closeRequested(), context: context)
        }
    }

    private func openChannel(promise: EventLoopPromise<UInt16>, context: ChannelHandlerContext) {
        guard case .open = self.connection.state else {
            promise.fail(AMQPClientError(.notConnected))
            return
        }
        let limit = self.channelMax == 0 ? UInt16.max : self.channelMax
        var candidate = self.nextChannelID
        for _ in 0..<Int(limit) {
            if self.channels[candidate] == nil { break }
            candidate = candidate >= limit ? 1 : candidate + 1
        }
        guard self.channels[candidate] == nil else {
            promise.fail(AMQPClientError(.tooManyChannels, message: "all \(limit) channels are in use"))
            return
        }
        self.nextChannelID = candidate >= limit ? 1 : candidate + 1
        self.channels[candidate] = ChannelContext(
            machine: AMQPChannelStateMachine(channelID: candidate),
            openPromise: promise
        )
        self.writeFrames([.method(channel: candidate, .channel(.open))], context: context)
    }

    private func openChannelContext<Value>(
        _ channelID: UInt16,
        failing promise: EventLoopPromise<Value>?
    ) -> ChannelContext? {
        guard let channel = self.channels[channelID], channel.machine.isOpen else {
            promise?.fail(AMQPClientError(.channelClosed, message: "channel \(channelID) is not open"))
            return nil
        }
        return channel
    }

    // MARK: Connection actions

    private func run(_ action: AMQPConnectionStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .sendProtocolHeader:
            context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(bytes: AMQPFrame.protocolHeader)), promise: nil)
        case .sendFrames(let frames):
            self.writeFrames(frames, context: context)
        case .tune(let tuning, let frames):
            self.frameMax = tuning.frameMax == 0 ? Int(UInt32.max) : Int(tuning.frameMax)
            self.channelMax = tuning.channelMax
            self.decoder = NIOSingleStepByteToMessageProcessor(AMQPFrameDecoder(maxFrameSize: self.frameMax))
            self.writeFrames(frames, context: context)
            self.startHeartbeats(seconds: tuning.heartbeat, context: context)
        case .opened:
            self.connected.succeed()
        case .sendHeartbeat:
            self.writeFrames([.heartbeat], context: context)
        case .blocked(let reason):
            self.logger.warning("the broker blocked publishing on this connection", metadata: ["reason": "\(reason)"])
            self.onBlocked(reason)
        case .unblocked:
            self.logger.info("the broker unblocked this connection")
            self.onBlocked(nil)
        case .forwardToChannel(let channelID, let frame):
            guard var channel = self.channels[channelID] else {
                // Frames for a channel we already forgot (e.g. after close-ok) are dropped.
                return
            }
            let channelAction = channel.machine.frameReceived(frame)
            self.channels[channelID] = channel
            self.runChannel(channelAction, channelID: channelID, context: context)
        case .acknowledgeCloseAndShutDown(let error):
            self.writeFrames([.method(channel: 0, .connection(.closeOk))], context: context)
            self.shutDown(error, context: context)
        case .sendCloseAndWait(let close):
            self.writeFrames([.method(channel: 0, .connection(.close(close)))], context: context)
            // A broker that never answers close-ok does not keep us waiting forever.
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .seconds(5)) {
                let handler = bound.value
                guard let context = handler.context else { return }
                handler.shutDown(
                    AMQPClientError(.connectionClosed, message: "no close-ok within 5 s"), context: context)
            }
        case .shutDown(let error):
            self.shutDown(error, context: context)
        }
    }

    private func startHeartbeats(seconds: UInt16, context: ChannelHandlerContext) {
        guard seconds > 0 else { return }
        let interval = TimeAmount.milliseconds(Int64(seconds) * 500)
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.heartbeatTask = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let handler = bound.value
            guard let context = handler.context else { return }
            handler.run(handler.connection.heartbeatTimerFired(), context: context)
        }
    }

    private func shutDown(_ error: AMQPClientError, context: ChannelHandlerContext) {
        guard self.shutdownError == nil else { return }
        self.shutdownError = error
        self.heartbeatTask?.cancel()
        self.heartbeatTask = nil
        self.connected.fail(error)
        let channels = self.channels
        self.channels.removeAll()
        for (_, var channel) in channels {
            let unconfirmed = channel.machine.connectionClosed()
            Self.failEverything(of: channel, unconfirmed: unconfirmed, with: error)
        }
        for promise in self.closePromises {
            promise.succeed()
        }
        self.closePromises.removeAll()
        self.shutdown.succeed(error)
        context.close(promise: nil)
    }

    private static func failEverything(
        of channel: ChannelContext,
        unconfirmed: [EventLoopPromise<Void>],
        with error: AMQPClientError
    ) {
        channel.openPromise?.fail(error)
        for promise in channel.replies {
            promise.fail(error)
        }
        for promise in unconfirmed {
            promise.fail(error)
        }
        for (_, sink) in channel.consumers {
            sink.finish(throwing: error)
        }
        channel.returns?.finish()
        channel.closePromise?.succeed()
    }

    // MARK: Channel actions

    private func runChannel(
        _ action: AMQPChannelStateMachine.Action,
        channelID: UInt16,
        context: ChannelHandlerContext
    ) {
        switch action {
        case .none:
            break
        case .opened:
            let promise = self.channels[channelID]?.openPromise
            self.channels[channelID]?.openPromise = nil
            promise?.succeed(channelID)
        case .replyReceived(let method):
            self.channels[channelID]?.replies.popFirst()?.succeed(.method(method))
        case .getReceived(let result):
            self.channels[channelID]?.replies.popFirst()?.succeed(.get(result))
        case .deliver(let delivery):
            if let sink = self.channels[channelID]?.consumers[delivery.consumerTag] {
                sink.yield(delivery)
            } else {
                // No consumer any more (cancelled locally): give the message back to the queue.
                let nack = AMQPMethod.basic(.nack(deliveryTag: delivery.deliveryTag, multiple: false, requeue: true))
                self.writeFrames([.method(channel: channelID, nack)], context: context)
            }
        case .returned(let message):
            self.channels[channelID]?.returns?.yield(message)
        case .completePublishes(let completions):
            for completion in completions {
                completion.promise.completeWith(completion.result.mapError { $0 as any Error })
            }
        case .consumerCancelled(let consumerTag, let reply):
            let sink = self.channels[channelID]?.consumers.removeValue(forKey: consumerTag)
            sink?.finish(
                throwing: AMQPClientError(.consumerCancelled, message: "the broker cancelled consumer \(consumerTag)")
            )
            if let reply {
                self.writeFrames([reply], context: context)
            }
        case .send(let frames):
            self.writeFrames(frames, context: context)
        case .closedByServer(let close, let reply, let unconfirmed):
            self.writeFrames([reply], context: context)
            if let channel = self.channels.removeValue(forKey: channelID) {
                Self.failEverything(of: channel, unconfirmed: unconfirmed, with: .closedByServer(close, channel: true))
            }
        case .closed(let unconfirmed):
            if let channel = self.channels.removeValue(forKey: channelID) {
                Self.failEverything(of: channel, unconfirmed: unconfirmed, with: AMQPClientError(.channelClosed))
            }
        case .connectionViolation(let reason):
            self.run(self.connection.channelViolation(reason), context: context)
        }
    }

    // MARK: Writing

    /// Writes frames of the handler's own (replies, heartbeats, close): they always encode, so a
    /// failure is only logged.
    private func writeFrames(_ frames: [AMQPFrame], context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 256)
        do {
            for frame in frames {
                try frame.encode(into: &buffer)
            }
        } catch {
            self.logger.error("frame not encoded", metadata: ["error": "\(error)"])
            return
        }
        context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
    }

    /// Encodes a caller's frames; when one cannot be encoded (e.g. a short string over 255 bytes),
    /// fails `promise` with `invalidArgument` and returns nil: nothing is written.
    private func encode<Value>(
        _ frames: [AMQPFrame],
        failing promise: EventLoopPromise<Value>?,
        context: ChannelHandlerContext
    ) -> ByteBuffer? {
        var buffer = context.channel.allocator.buffer(capacity: 256)
        do {
            for frame in frames {
                try frame.encode(into: &buffer)
            }
            return buffer
        } catch {
            let failure = AMQPClientError(.invalidArgument, message: "frame not encoded", underlying: error)
            if let promise {
                promise.fail(failure)
            } else {
                self.logger.error("frame not encoded", metadata: ["error": "\(failure)"])
            }
            return nil
        }
    }

    /// `basic.publish`, the content header and the body split into frames of at most `frame_max`.
    private func contentFrames(
        channelID: UInt16,
        publish: AMQPMethod.Basic.Publish,
        properties: AMQPBasicProperties,
        body: ByteBuffer
    ) -> [AMQPFrame] {
        var frames: [AMQPFrame] = [
            .method(channel: channelID, .basic(.publish(publish))),
            .header(
                channel: channelID,
                AMQPContentHeader(bodySize: UInt64(body.readableBytes), properties: properties)
            ),
        ]
        var remaining = body
        let chunkSize = max(1, self.frameMax - AMQPFrame.overhead)
        while remaining.readableBytes > 0,
            let chunk = remaining.readSlice(length: min(chunkSize, remaining.readableBytes))
        {
            frames.append(.body(channel: channelID, chunk))
        }
        return frames
    }
}
