import NIOCore
import NIOWebSocket

/// An upgraded Engine.IO WebSocket as a synchronous channel handler, after NIO's frame decoder and
/// encoder: text messages go to the ``SocketIOSocket`` and the socket's frames are written from
/// the event loop. An idle connection is its channel, its pipeline and this handler: no task, no
/// async stream, no buffer of its own.
///
/// - Text messages (fragments joined, up to `maxMessageBytes`) go to the session; binary ones are
///   ignored (Socket.IO binary attachments are not part of this protocol's events).
/// - A ping is answered with a pong; pongs are ignored (Engine.IO's own ping/pong keeps the
///   session alive).
/// - A message over `maxMessageBytes` (NIO's decoder refuses a single frame over it before reading
///   it) is closed with 1009, a protocol error with 1002; the session hears "transport error".
/// - The client's close frame is answered with a close frame and the connection closed; the
///   session hears "transport close". When the session ends on our side (or the server shuts
///   down) a close frame goes out (1009 after a payload over `maxPayload`, else 1000) and the
///   connection closes when the client answers, or after ``closeTimeout``.
///
/// All state is touched on the channel's event loop. The ``SocketIOSocket/FrameSink`` side may be
/// called from any thread (under the socket's lock): it only schedules the work on the event loop,
/// so nothing re-enters the socket's lock.
final class EngineIOWebSocketHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// How long a close frame of ours waits for the client's before the connection is closed.
    static let closeTimeout = TimeAmount.seconds(5)

    private enum Phase {
        /// Frames flow both ways.
        case open
        /// Our close frame went out; waiting for the client's (or the timeout).
        case closing
        /// The close handshake is over or the connection is gone.
        case closed
    }

    /// What is being read of a fragmented message.
    private enum Fragments {
        case none
        case text(ByteBuffer)
        /// A binary message, skipped to its end.
        case binary
    }

    private let server: SocketIOServer
    private let eventLoop: any EventLoop
    private let maxMessageBytes: Int
    // Event-loop state.
    private var context: ChannelHandlerContext?
    private var socket: SocketIOSocket?
    /// The attachment number the socket gave this WebSocket (nil: not attached or refused).
    private var generation: Int?
    private var phase = Phase.open
    private var fragments = Fragments.none
    private var closeTimer: Scheduled<Void>?

    init(server: SocketIOServer, eventLoop: any EventLoop, maxMessageBytes: Int) {
        self.server = server
        self.eventLoop = eventLoop
        self.maxMessageBytes = maxMessageBytes
    }

    /// The session this WebSocket joined (nil before ``attach(sid:authorizationHeader:)``).
    var attachedSocket: SocketIOSocket? { self.socket }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.closeTimer?.cancel()
        self.closeTimer = nil
    }

    /// Joins the session: a new WebSocket-only session, or the upgrade of polling session `sid`.
    /// A session that is gone, or refuses the socket (a second probe), closes this WebSocket.
    func attach(sid: String?, authorizationHeader: String?) {
        let socket: SocketIOSocket
        if let sid {
            guard let existing = self.server.socket(engineID: sid) else {
                // The session ended since the upgrade was accepted.
                self.startClose(.normalClosure)
                return
            }
            socket = existing
        } else {
            guard let opened = self.server.open(transport: .websocket, authorizationHeader: authorizationHeader) else {
                // The server is shutting down.
                self.startClose(.goingAway)
                return
            }
            socket = opened
        }
        self.socket = socket
        let (generation, outcomes) = socket.attachWebSocket(sink: self, upgrade: sid != nil)
        // Refused: the socket finished this sink, which closes the WebSocket (on the event loop).
        self.generation = generation
        self.server.processInOrder(outcomes, of: socket)
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        guard self.phase != .closed else { return }
        switch frame.opcode {
        case .connectionClose:
            self.receivedClose(frame, context: context)
        case .ping:
            guard self.phase == .open else { return }
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            context.writeAndFlush(Self.wrapOutboundOut(pong), promise: nil)
        case .pong:
            return
        case .text, .binary, .continuation:
            guard self.phase == .open else { return }
            guard !frame.rsv1, !frame.rsv2, !frame.rsv3 else {
                // No extension was negotiated.
                self.failed(.protocolError)
                return
            }
            self.receivedData(frame)
        default:
            self.failed(.protocolError)
        }
    }

    private func receivedData(_ frame: WebSocketFrame) {
        switch (frame.opcode, self.fragments) {
        case (.text, .none):
            let data = frame.unmaskedData
            if frame.fin {
                self.deliver(data)
            } else {
                self.fragments = .text(data)
            }
        case (.binary, .none):
            if !frame.fin { self.fragments = .binary }
        case (.continuation, .text(var message)):
            guard message.readableBytes + frame.length <= self.maxMessageBytes else {
                self.fragments = .none
                self.failed(.messageTooLarge)
                return
            }
            var data = frame.unmaskedData
            message.writeBuffer(&data)
            if frame.fin {
                self.fragments = .none
                self.deliver(message)
            } else {
                self.fragments = .text(message)
            }
        case (.continuation, .binary):
            if frame.fin { self.fragments = .none }
        default:
            // A continuation with nothing to continue, or a new message inside a fragmented one.
            self.failed(.protocolError)
        }
    }

    private func deliver(_ message: ByteBuffer) {
        guard let socket, self.generation != nil else { return }
        self.server.processInOrder(socket.webSocketText(String(buffer: message)), of: socket)
    }

    private func receivedClose(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        switch self.phase {
        case .open:
            // Answer with the client's code (RFC 6455 5.5.1), then close; 1000 for none or for
            // one that must not be sent (1005, 1006, 1015, outside 1000-4999).
            var data = frame.unmaskedData
            var code = WebSocketErrorCode.normalClosure
            if let number = data.readInteger(as: UInt16.self), (1000...4999).contains(number),
                ![1004, 1005, 1006, 1015].contains(number)
            {
                code = WebSocketErrorCode(codeNumber: Int(number))
            }
            self.phase = .closed
            self.writeClose(code, context: context).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            self.sessionLostWebSocket(reason: "transport close")
        case .closing:
            // The client answered our close.
            self.phase = .closed
            context.close(promise: nil)
        case .closed:
            return
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // While our close frame waits for the client's, the decoder reports every further read
        // after its error (`dataReceivedInErrorState`): the rest of an oversized message. Closing
        // now, with that unread, would reset the connection before the client reads the close.
        guard self.phase == .open else { return }
        guard let error = error as? NIOWebSocketError else {
            // I/O errors: the connection is gone or going.
            context.close(promise: nil)
            return
        }
        switch error {
        case .invalidFrameLength:
            self.failed(.messageTooLarge)
        case .fragmentedControlFrame, .multiByteControlFrameLength:
            self.failed(.protocolError)
        }
    }

    /// A client that sends without reading what we write cannot make our outbound buffer grow
    /// without bound: reading stops while the channel is not writable (over NIO's high-water
    /// mark), and resumes when it is again.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.phase = .closed
        self.closeTimer?.cancel()
        self.closeTimer = nil
        self.sessionLostWebSocket(reason: "transport close")
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is ChannelShouldQuiesceEvent:
            // Graceful shutdown: a close frame to the client; the session loses this transport.
            self.startClose(.normalClosure)
            self.sessionLostWebSocket(reason: "server shutting down")
        case let event as ChannelEvent where event == .inputClosed:
            // The client half-closed without a close frame: nothing more comes.
            self.phase = .closed
            context.close(promise: nil)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// The client broke the protocol or sent too much: close with `code`; the session hears it.
    private func failed(_ code: WebSocketErrorCode) {
        self.startClose(code)
        self.sessionLostWebSocket(reason: "transport error")
    }

    /// Tells the socket, once, that this WebSocket ended.
    private func sessionLostWebSocket(reason: String) {
        guard let socket, let generation else { return }
        self.generation = nil
        self.server.processInOrder(socket.webSocketClosed(generation, reason: reason), of: socket)
    }

    // MARK: Outbound

    /// Sends our close frame (once) and closes the connection when the client answers it, or
    /// after ``closeTimeout``.
    private func startClose(_ code: WebSocketErrorCode) {
        guard self.phase == .open, let context else { return }
        self.phase = .closing
        self.writeClose(code, context: context).assumeIsolated().whenFailure { _ in context.close(promise: nil) }
        self.closeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: Self.closeTimeout) {
            self.closeTimer = nil
            self.phase = .closed
            context.close(promise: nil)
        }
    }

    private func writeClose(_ code: WebSocketErrorCode, context: ChannelHandlerContext) -> EventLoopFuture<Void> {
        var data = context.channel.allocator.buffer(capacity: 2)
        data.write(webSocketErrorCode: code)
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
        return context.writeAndFlush(Self.wrapOutboundOut(frame))
    }

    private func write(_ frame: SocketIOSocket.Frame) {
        guard self.phase == .open, let context else {
            for waiter in frame.written { waiter.resume(returning: false) }
            return
        }
        let data = context.channel.allocator.buffer(string: frame.text)
        let message = Self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: data))
        guard !frame.written.isEmpty else {
            context.writeAndFlush(message, promise: nil)
            return
        }
        context.writeAndFlush(message).assumeIsolated().whenComplete { result in
            let written: Bool
            switch result {
            case .success: written = true
            case .failure: written = false
            }
            for waiter in frame.written { waiter.resume(returning: written) }
        }
    }

    /// The session ended, on our side or because this WebSocket ended: close it (nothing happens
    /// when it is closing or closed already).
    private func sessionFinished() {
        self.generation = nil
        let tooLarge = self.socket?.closeReason == EngineIOSession.payloadTooLarge
        self.startClose(tooLarge ? .messageTooLarge : .normalClosure)
    }
}

extension EngineIOWebSocketHandler: SocketIOSocket.FrameSink {
    // Both run later on the event loop, never inside the caller (which holds the socket's lock).
    func yield(_ frame: SocketIOSocket.Frame) {
        self.eventLoop.execute { self.write(frame) }
    }

    func finish() {
        self.eventLoop.execute { self.sessionFinished() }
    }
}
