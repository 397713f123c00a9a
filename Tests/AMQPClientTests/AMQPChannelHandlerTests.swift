import AMQPProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

@testable import AMQPClient

/// The channel handler against a scripted broker: frames in, frames and completed promises out.
@Suite("AMQP channel handler with a scripted peer")
struct AMQPChannelHandlerTests {
    final class ScriptedBroker {
        let channel = EmbeddedChannel()
        let handler: AMQPChannelHandler
        var decoder = AMQPFrameDecoder()

        init(heartbeat: UInt16 = 10) throws {
            self.handler = AMQPChannelHandler(
                configuration: AMQPConnectionConfiguration(heartbeat: heartbeat),
                eventLoop: self.channel.eventLoop,
                logger: Logger(label: "test"),
                onBlocked: { _ in }
            )
            try self.channel.pipeline.syncOperations.addHandler(self.handler)
        }

        func send(_ frame: AMQPFrame) throws {
            var buffer = ByteBuffer()
            try frame.encode(into: &buffer)
            try self.channel.writeInbound(buffer)
        }

        /// Every frame the client wrote since the last call.
        func received() throws -> [AMQPFrame] {
            var frames: [AMQPFrame] = []
            while var buffer = try self.channel.readOutbound(as: ByteBuffer.self) {
                while let frame = try self.decoder.decode(buffer: &buffer) {
                    frames.append(frame)
                }
            }
            return frames
        }

        /// Runs the handshake to an open connection.
        func open() throws {
            try self.channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 5672)).wait()
            #expect(try self.channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(bytes: AMQPFrame.protocolHeader))
            try self.send(
                .method(
                    channel: 0, .connection(.start(.init(serverProperties: [:], mechanisms: "PLAIN", locales: "en_US")))
                )
            )
            guard case .method(0, .connection(.startOk)) = try self.received().first else {
                throw Failure("no start-ok")
            }
            try self.send(.method(channel: 0, .connection(.tune(.init(channelMax: 64, frameMax: 4096, heartbeat: 60)))))
            #expect(try self.received().count == 2)
            try self.send(.method(channel: 0, .connection(.openOk)))
        }
    }

    @Test func handshakeOpensChannelsAndAwaitsConfirms() throws {
        let broker = try ScriptedBroker()
        try broker.open()
        try broker.handler.connected.futureResult.wait()

        let opened = broker.channel.eventLoop.makePromise(of: UInt16.self)
        try broker.channel.writeOutbound(AMQPHandlerTask.openChannel(opened))
        #expect(try broker.received() == [.method(channel: 1, .channel(.open))])
        try broker.send(.method(channel: 1, .channel(.openOk)))
        #expect(try opened.futureResult.wait() == 1)

        let selected = broker.channel.eventLoop.makePromise(of: AMQPReply.self)
        try broker.channel.writeOutbound(
            AMQPHandlerTask.request(channel: 1, method: .confirm(.select(noWait: false)), promise: selected)
        )
        _ = try broker.received()
        try broker.send(.method(channel: 1, .confirm(.selectOk)))
        _ = try selected.futureResult.wait()

        // A 10 000-byte body in frames of at most frame_max (4096).
        let confirmed = broker.channel.eventLoop.makePromise(of: Void.self)
        try broker.channel.writeOutbound(
            AMQPHandlerTask.publish(
                channel: 1,
                .init(exchange: "", routingKey: "q"),
                properties: AMQPBasicProperties(messageID: "m"),
                body: ByteBuffer(repeating: 1, count: 10_000),
                confirmed: confirmed
            )
        )
        let frames = try broker.received()
        #expect(frames.count == 5)
        let bodySizes = frames.compactMap { frame -> Int? in
            if case .body(_, let body) = frame { return body.readableBytes }
            return nil
        }
        #expect(bodySizes == [4088, 4088, 1824])
        let done = NIOLockedValueBox(false)
        confirmed.futureResult.whenSuccess { done.withLockedValue { $0 = true } }
        #expect(!done.withLockedValue { $0 })
        try broker.send(.method(channel: 1, .basic(.ack(deliveryTag: 1, multiple: false))))
        #expect(done.withLockedValue { $0 })
    }

    @Test func channelErrorFailsPendingRequestAndAnswersCloseOk() throws {
        let broker = try ScriptedBroker()
        try broker.open()
        let opened = broker.channel.eventLoop.makePromise(of: UInt16.self)
        try broker.channel.writeOutbound(AMQPHandlerTask.openChannel(opened))
        try broker.send(.method(channel: 1, .channel(.openOk)))
        _ = try broker.received()

        let declared = broker.channel.eventLoop.makePromise(of: AMQPReply.self)
        try broker.channel.writeOutbound(
            AMQPHandlerTask.request(
                channel: 1, method: .queue(.declare(.init(queue: "q", passive: true))), promise: declared)
        )
        _ = try broker.received()
        try broker.send(
            .method(
                channel: 1,
                .channel(
                    .close(AMQPClose(replyCode: 404, replyText: "NOT_FOUND - no queue 'q'", classID: 50, methodID: 10)))
            )
        )
        #expect(try broker.received() == [.method(channel: 1, .channel(.closeOk))])
        let error = #expect(throws: AMQPClientError.self) { try declared.futureResult.wait() }
        #expect(error?.code == .channelClosedByServer)
        #expect(error?.replyCode == 404)
        #expect(broker.channel.isActive)
    }

    @Test func heartbeatsAreSentAndASilentBrokerIsDropped() throws {
        let broker = try ScriptedBroker(heartbeat: 10)
        try broker.open()
        broker.channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        #expect(try broker.received() == [.heartbeat])
        try broker.send(.heartbeat)
        broker.channel.embeddedEventLoop.advanceTime(by: .seconds(15))
        #expect(broker.channel.isActive)
        broker.channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        #expect(!broker.channel.isActive)
        #expect(try broker.handler.shutdown.futureResult.wait().code == .heartbeatTimeout)
    }

    @Test func brokerCloseFailsEverythingWithItsReplyCode() throws {
        let broker = try ScriptedBroker()
        try broker.open()
        let opened = broker.channel.eventLoop.makePromise(of: UInt16.self)
        try broker.channel.writeOutbound(AMQPHandlerTask.openChannel(opened))
        try broker.send(
            .method(channel: 0, .connection(.close(AMQPClose(replyCode: 320, replyText: "CONNECTION_FORCED")))))
        let frames = try broker.received()
        #expect(frames.last == .method(channel: 0, .connection(.closeOk)))
        let error = #expect(throws: AMQPClientError.self) { try opened.futureResult.wait() }
        #expect(error?.replyCode == 320)
        #expect(try broker.handler.shutdown.futureResult.wait().code == .connectionClosedByServer)
    }
}
