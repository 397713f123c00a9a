import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOWebSocket
import ServiceLifecycle
import Testing

@testable import SocketIO

/// The synchronous WebSocket handler on a test channel (no network): messages reach the session,
/// the session's frames leave, control frames, close codes, and what the server hears when the
/// WebSocket ends.
@Suite("Engine.IO WebSocket handler")
struct EngineIOWebSocketHandlerTests {
    /// A channel with the handler attached as a new WebSocket-only session (or to `sid`), behind a
    /// WebSocket frame decoder of `maxFrameSize` so that raw bytes can be fed too.
    struct Connection {
        let channel: NIOAsyncTestingChannel
        let handler: EngineIOWebSocketHandler

        static func open(
            _ server: SocketIOServer, sid: String? = nil, maxMessageBytes: Int = 1_000_000, maxFrameSize: Int = 1 << 20
        ) async throws -> Connection {
            let channel = NIOAsyncTestingChannel()
            let handler = EngineIOWebSocketHandler(
                server: server, eventLoop: channel.eventLoop, maxMessageBytes: maxMessageBytes)
            try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1))
            try await channel.testingEventLoop.executeInContext {
                let operations = channel.pipeline.syncOperations
                try operations.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maxFrameSize)))
                try operations.addHandler(handler)
                handler.attach(sid: sid, authorizationHeader: nil)
            }
            return Connection(channel: channel, handler: handler)
        }

        func send(_ frame: WebSocketFrame) async throws {
            try await self.channel.writeInbound(frame.encodedForInbound(allocator: self.channel.allocator))
        }

        func sendText(_ text: String, fin: Bool = true, opcode: WebSocketOpcode = .text) async throws {
            try await self.send(
                WebSocketFrame(fin: fin, opcode: opcode, data: self.channel.allocator.buffer(string: text)))
        }

        /// The next frame the handler writes (an error when none comes within 10 s).
        func next() async throws -> WebSocketFrame {
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                // Runs what the handler scheduled on its event loop (the socket's frames).
                await self.channel.testingEventLoop.run()
                if let frame = try await self.channel.readOutbound(as: WebSocketFrame.self) { return frame }
                try await Task.sleep(for: .milliseconds(2))
            }
            throw NoFrame()
        }

        struct NoFrame: Error {}

        func nextText() async throws -> String {
            let frame = try await self.next()
            #expect(frame.opcode == .text)
            return String(buffer: frame.data)
        }

        /// Reads frames until a text frame containing `part`.
        func text(containing part: String) async throws -> String {
            while true {
                let text = try await self.nextText()
                if text.contains(part) { return text }
            }
        }

        /// Answers the handler's close frame with the client's, which ends the connection.
        func answerClose() async throws {
            try await self.send(
                WebSocketFrame(fin: true, opcode: .connectionClose, data: self.channel.allocator.buffer(capacity: 0)))
            try await self.channel.closeFuture.get()
        }

        func closeCode(of frame: WebSocketFrame) -> WebSocketErrorCode? {
            var data = frame.data
            return data.readWebSocketErrorCode()
        }
    }

    static func authenticate(_ connection: Connection, userID: String) async throws -> SocketIOSocket {
        let open = try await connection.nextText()
        #expect(open.hasPrefix("0{"))
        #expect(open.contains("\"upgrades\":[]"))
        let token = TestHooks.token(userID: userID)
        try await connection.sendText("40/notifications,{\"token\":\"\(token)\"}")
        let connected = try await connection.text(containing: "welcome")
        #expect(connected.contains("\"userId\":\"\(userID)\""))
        let socket = try #require(connection.handler.attachedSocket)
        return socket
    }

    /// Waits for `condition`; an error when it does not hold within 10 s.
    static func until(_ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !(await condition()) {
            guard ContinuousClock.now < deadline else { throw GaveUp() }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    struct GaveUp: Error {}

    @Test func aTextMessageReachesTheSessionAndTheDelegateAndItsAckGoesBack() async throws {
        try await SocketIOServerTests.withServer { server, delegate in
            let connection = try await Connection.open(server)
            let socket = try await Self.authenticate(connection, userID: SocketIOServerTests.alice)
            #expect(server.localSockets(ofUser: SocketIOServerTests.alice).map(\.id) == [socket.id])
            try await connection.sendText("42/notifications,7[\"hello\",{\"n\":1}]")
            #expect(try await connection.nextText() == "43/notifications,7[\"pong\"]")
            #expect(delegate.events.withLockedValue { $0.map(\.0) } == ["hello"])
            // A message in fragments is one message.
            try await connection.sendText("42/notifications,8[\"frag", fin: false)
            try await connection.sendText("mented\"]", fin: true, opcode: .continuation)
            #expect(try await connection.nextText() == "43/notifications,8[\"pong\"]")
            #expect(delegate.events.withLockedValue { $0.map(\.0) } == ["hello", "fragmented"])
        }
    }

    @Test func aPingIsAnsweredWithItsDataAndAPongIsNot() async throws {
        try await SocketIOServerTests.withServer { server, _ in
            let connection = try await Connection.open(server)
            _ = try await connection.nextText()  // open
            try await connection.send(
                WebSocketFrame(fin: true, opcode: .ping, data: connection.channel.allocator.buffer(string: "abc")))
            let pong = try await connection.next()
            #expect(pong.opcode == .pong)
            #expect(String(buffer: pong.data) == "abc")
            try await connection.send(
                WebSocketFrame(fin: true, opcode: .pong, data: connection.channel.allocator.buffer(string: "x")))
            // A ping's pong is written at once, in the read; a pong frame gets nothing.
            let reply = try await connection.channel.readOutbound(as: WebSocketFrame.self)
            #expect(reply == nil)
        }
    }

    @Test func aMessageOverTheLimitInFragmentsClosesWith1009AndEndsTheSession() async throws {
        try await SocketIOServerTests.withServer { server, _ in
            let connection = try await Connection.open(server, maxMessageBytes: 64)
            let socket = try await Self.authenticate(connection, userID: SocketIOServerTests.alice)
            try await connection.sendText(String(repeating: "a", count: 40), fin: false)
            try await connection.sendText(String(repeating: "b", count: 40), fin: true, opcode: .continuation)
            let close = try await connection.next()
            #expect(close.opcode == .connectionClose)
            #expect(connection.closeCode(of: close) == .messageTooLarge)
            try await Self.until { socket.isClosed }
            try await Self.until { server.localSockets(ofUser: SocketIOServerTests.alice).isEmpty }
            #expect(!(await server.isUserConnected(SocketIOServerTests.alice)))
            // The client's answer ends the connection.
            try await connection.answerClose()
        }
    }

    @Test func aFrameOverTheDecodersLimitClosesWith1009BeforeItIsRead() async throws {
        try await SocketIOServerTests.withServer { server, _ in
            let connection = try await Connection.open(server, maxFrameSize: 100)
            _ = try await connection.nextText()  // open
            let socket = try #require(connection.handler.attachedSocket)
            // A masked text frame header announcing 1,000 bytes.
            var header = connection.channel.allocator.buffer(capacity: 8)
            header.writeBytes([0x81, 0x80 | 126, 0x03, 0xE8, 1, 2, 3, 4])
            // The decoder's error surfaces in the pipeline, not to the writer.
            _ = try? await connection.channel.writeInbound(header)
            let close = try await connection.next()
            #expect(close.opcode == .connectionClose)
            #expect(connection.closeCode(of: close) == .messageTooLarge)
            try await Self.until { socket.isClosed }
        }
    }

    @Test func aTextFrameOverMaxPayloadEndsTheSessionWith1009() async throws {
        try await Self.withSmallPayloadServer { server in
            let connection = try await Connection.open(server)
            _ = try await connection.nextText()  // open
            let socket = try #require(connection.handler.attachedSocket)
            try await connection.sendText("4" + String(repeating: "x", count: 200))
            let close = try await connection.next()
            #expect(connection.closeCode(of: close) == .messageTooLarge)
            try await Self.until { socket.isClosed }
            #expect(socket.closeReason == EngineIOSession.payloadTooLarge)
        }
    }

    @Test func theClientsCloseIsAnsweredAndTheSessionAndPresenceGo() async throws {
        try await SocketIOServerTests.withServer { server, _ in
            let connection = try await Connection.open(server)
            let socket = try await Self.authenticate(connection, userID: SocketIOServerTests.alice)
            #expect(await server.isUserConnected(SocketIOServerTests.alice))
            var code = connection.channel.allocator.buffer(capacity: 2)
            code.write(webSocketErrorCode: .goingAway)
            try await connection.send(WebSocketFrame(fin: true, opcode: .connectionClose, data: code))
            let answer = try await connection.next()
            #expect(answer.opcode == .connectionClose)
            #expect(connection.closeCode(of: answer) == .goingAway)
            try await connection.channel.closeFuture.get()
            try await Self.until { socket.isClosed }
            #expect(socket.closeReason == "transport close")
            try await Self.until { server.localSockets(ofUser: SocketIOServerTests.alice).isEmpty }
            #expect(!(await server.isUserConnected(SocketIOServerTests.alice)))
            // Emits to it now fail rather than wait.
            #expect(!(await socket.emit("late", [])))
        }
    }

    @Test func aCloseWithACodeThatMustNotBeSentIsAnsweredWith1000() async throws {
        try await SocketIOServerTests.withServer { server, _ in
            let connection = try await Connection.open(server)
            _ = try await connection.nextText()  // open
            var code = connection.channel.allocator.buffer(capacity: 2)
            code.writeInteger(UInt16(1005))
            try await connection.send(WebSocketFrame(fin: true, opcode: .connectionClose, data: code))
            let answer = try await connection.next()
            #expect(answer.opcode == .connectionClose)
            #expect(connection.closeCode(of: answer) == .normalClosure)
        }
    }

    @Test func aConnectionThatDropsEndsTheSession() async throws {
        try await SocketIOServerTests.withServer { server, _ in
            let connection = try await Connection.open(server)
            let socket = try await Self.authenticate(connection, userID: SocketIOServerTests.bob)
            try await connection.channel.close()
            try await Self.until { socket.isClosed }
            try await Self.until { server.localSockets(ofUser: SocketIOServerTests.bob).isEmpty }
        }
    }

    @Test func gracefulShutdownSendsACloseFrameAndEndsTheSession() async throws {
        try await SocketIOServerTests.withServer { server, _ in
            let connection = try await Connection.open(server)
            let socket = try await Self.authenticate(connection, userID: SocketIOServerTests.alice)
            connection.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
            let close = try await connection.next()
            #expect(close.opcode == .connectionClose)
            #expect(connection.closeCode(of: close) == .normalClosure)
            try await Self.until { socket.isClosed }
            try await connection.answerClose()
        }
    }

    /// A client that sends without reading what we write: reading pauses while the channel is not
    /// writable (its outbound buffer over NIO's high-water mark) and resumes once it is again.
    @Test func readingPausesWhileTheClientDoesNotReadWhatWeWrite() async throws {
        try await SocketIOServerTests.withServer { server, _ in
            let connection = try await Connection.open(server)
            _ = try await connection.nextText()  // open
            let channel = connection.channel
            func autoRead() -> Bool? {
                channel.options.first { $0.option is ChannelOptions.Types.AutoReadOption }?.value as? Bool
            }
            #expect(autoRead() == nil)
            for writable in [false, true, false] {
                channel.isWritable = writable
                channel.pipeline.fireChannelWritabilityChanged()
                await channel.testingEventLoop.run()
                #expect(autoRead() == writable)
            }
        }
    }

    /// Hears of closed sockets slowly: `socketClosed` waits for ``release()`` and then a little
    /// longer, as a close clearing presence in a slow Redis would.
    final class SlowCloseDelegate: SocketIOServerDelegate {
        let closing = NIOLockedValueBox(false)
        let closed = NIOLockedValueBox<[String]>([])
        private let gate = AsyncStream<Void>.makeStream()

        func release() { self.gate.continuation.finish() }

        func socketClosed(_ socket: SocketIOSocket, userID: String, reason: String) async {
            self.closing.withLockedValue { $0 = true }
            for await _ in self.gate.stream {}
            try? await Task.sleep(for: .milliseconds(100))
            self.closed.withLockedValue { $0.append(userID) }
        }
    }

    /// A WebSocket that closed just before graceful shutdown: the server's `run()` returns only once
    /// what that close asked for (the delegate hearing of it; with Redis, the presence removal) has
    /// finished, so the services stopped after it (the Redis client) are still there for it.
    @Test func gracefulShutdownWaitsForACloseUnderWay() async throws {
        let server = SocketIOServer(
            configuration: SocketIOServerConfiguration(namespace: "/notifications", instanceID: "unit"),
            hooks: TestHooks(), redis: nil, logger: Logger(label: "test.socket.io.server"))
        let delegate = SlowCloseDelegate()
        server.setDelegate(delegate)
        let group = ServiceGroup(
            configuration: .init(services: [server], logger: Logger(label: "test.socket.io.server")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let connection = try await Connection.open(server)
            _ = try await Self.authenticate(connection, userID: SocketIOServerTests.alice)
            try await connection.channel.close()
            try await Self.until { delegate.closing.withLockedValue { $0 } }
            await group.triggerGracefulShutdown()
            delegate.release()
            try await tasks.next()
            #expect(delegate.closed.withLockedValue { $0 } == [SocketIOServerTests.alice])
        }
    }

    @Test func theServerClosingASocketClosesItsWebSocket() async throws {
        try await SocketIOServerTests.withServer { server, _ in
            let connection = try await Connection.open(server)
            let socket = try await Self.authenticate(connection, userID: SocketIOServerTests.alice)
            await server.process(socket.close("server shutting down"), of: socket)
            let close = try await connection.next()
            #expect(close.opcode == .connectionClose)
            #expect(connection.closeCode(of: close) == .normalClosure)
        }
    }

    @Test func aProbeSocketJoinsAPollingSessionAndASecondOneIsClosed() async throws {
        try await SocketIOServerTests.withServer { server, _ in
            let socket = try #require(server.open(transport: .polling, authorizationHeader: nil))
            _ = await socket.poll()  // open
            let probe = try await Connection.open(server, sid: socket.engineID)
            #expect(probe.handler.attachedSocket === socket)
            let second = try await Connection.open(server, sid: socket.engineID)
            let refused = try await second.next()
            #expect(refused.opcode == .connectionClose)
            try await probe.sendText("2probe")
            #expect(try await probe.nextText() == "3probe")
            try await probe.sendText("5")
            #expect(!socket.acceptsUpgrade)
            #expect(!socket.isClosed)
        }
    }

    static func withSmallPayloadServer(_ body: (SocketIOServer) async throws -> Void) async throws {
        let server = SocketIOServer(
            configuration: SocketIOServerConfiguration(
                namespace: "/notifications", maxPayload: 100, instanceID: "unit"),
            hooks: TestHooks(),
            redis: nil,
            logger: Logger(label: "test.socket.io.server")
        )
        let running = Task { try await server.run() }
        defer { running.cancel() }
        try await body(server)
    }
}

extension WebSocketFrame {
    /// The frame as a client sends it (masked), for the decoder in front of the handler.
    func encodedForInbound(allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: self.length + 14)
        var first: UInt8 = self.fin ? 0x80 : 0
        first |= UInt8(webSocketOpcode: self.opcode)
        buffer.writeInteger(first)
        let length = self.data.readableBytes
        if length < 126 {
            buffer.writeInteger(UInt8(0x80 | length))
        } else {
            buffer.writeInteger(UInt8(0x80 | 126))
            buffer.writeInteger(UInt16(length))
        }
        let mask: [UInt8] = [0x11, 0x22, 0x33, 0x44]
        buffer.writeBytes(mask)
        for (index, byte) in self.data.readableBytesView.enumerated() {
            buffer.writeInteger(byte ^ mask[index % 4])
        }
        return buffer
    }
}
