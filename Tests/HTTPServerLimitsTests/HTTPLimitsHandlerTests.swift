import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import HTTPServerLimits

/// The handler in a real HTTP/1 server pipeline on an `EmbeddedChannel` (no sockets; the test moves
/// the clock).
@Suite struct HTTPLimitsHandlerTests {
    static let limits = HTTPLimits(headTimeout: .seconds(2), idleTimeout: .seconds(5), maxHeadBytes: 1024)

    func makeChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        var decoderLimits = NIOHTTPDecoderLimitConfiguration()
        decoderLimits.maxHeaderFieldSize = Self.limits.maxHeadBytes
        decoderLimits.maxHeaderListSize = Self.limits.maxHeadBytes
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(
            withPipeliningAssistance: false, withErrorHandling: false, withOutboundHeaderValidation: false,
            withEncoderConfiguration: .init(), withDecoderLimitConfiguration: decoderLimits)
        let decoder = try channel.pipeline.syncOperations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
        try channel.pipeline.syncOperations.addHandler(
            HTTPLimitsHandler(limits: Self.limits), position: .after(decoder))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 4005)).wait()
        return channel
    }

    func written(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            text += String(buffer: buffer)
        }
        return text
    }

    func respond(_ channel: EmbeddedChannel, status: HTTPResponseStatus = .ok) throws {
        try channel.writeOutbound(HTTPServerResponsePart.head(.init(version: .http1_1, status: status)))
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
    }

    @Test func anOversizedHeadIsAnswered431AndClosed() throws {
        let channel = try self.makeChannel()
        let head = "GET /health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(String(repeating: "a", count: 4096))\r\n"
        try channel.writeInbound(ByteBuffer(string: head))
        #expect(try self.written(channel).hasPrefix("HTTP/1.1 431 Request Header Fields Too Large\r\n"))
        channel.embeddedEventLoop.advanceTime(by: HTTPLimitsHandler.linger)
        #expect(!channel.isActive)
    }

    @Test func garbageIsAnswered400AndClosed() throws {
        let channel = try self.makeChannel()
        var generator = SystemRandomNumberGenerator()
        var garbage = ByteBuffer()
        garbage.writeBytes([0x00, 0xff, 0x13] + (0..<197).map { _ in UInt8.random(in: 0...255, using: &generator) })
        try channel.writeInbound(garbage)
        let answer = try self.written(channel)
        #expect(answer.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        #expect(answer.lowercased().contains("connection: close"))
        channel.embeddedEventLoop.advanceTime(by: HTTPLimitsHandler.linger)
        #expect(!channel.isActive)
    }

    @Test func aHalfSentHeadIsAnswered408AtTheHeadTimeout() throws {
        let channel = try self.makeChannel()
        try channel.writeInbound(ByteBuffer(string: "GET /health HTTP/1.1\r\nHost: x\r\n"))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1900))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))
        #expect(try self.written(channel).hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
        channel.embeddedEventLoop.advanceTime(by: HTTPLimitsHandler.linger)
        #expect(!channel.isActive)
    }

    @Test func aParkedResponseOutlivesBothTimeoutsThenTheIdleTimeoutCloses() throws {
        let channel = try self.makeChannel()
        try channel.writeInbound(
            ByteBuffer(string: "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n"))
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) != nil)
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(channel.isActive)
        try self.respond(channel)
        #expect(try self.written(channel).hasPrefix("HTTP/1.1 200 OK\r\n"))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(4900))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))
        #expect(!channel.isActive)
        #expect(try self.written(channel).isEmpty)
    }

    @Test func anUpgradeRemovesTheHandler() throws {
        let channel = try self.makeChannel()
        try channel.writeInbound(
            ByteBuffer(
                string: "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n"))
        try self.respond(channel, status: .switchingProtocols)
        #expect(throws: (any Error).self) {
            try channel.pipeline.syncOperations.handler(type: HTTPLimitsHandler.self)
        }
        channel.embeddedEventLoop.advanceTime(by: .seconds(600))
        #expect(channel.isActive)
    }
}
