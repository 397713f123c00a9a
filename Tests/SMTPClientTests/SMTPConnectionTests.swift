import NIOCore
import NIOEmbedded
import Testing

@testable import SMTPClient

/// Whole connections against a scripted peer: the handler, decoder and state machine on a
/// `NIOAsyncTestingChannel`, with no network.
@Suite("SMTP connection over a scripted channel")
struct SMTPConnectionTests {
    static let configuration = SMTPConfiguration(
        host: "127.0.0.1", port: 25, tlsMode: .startTLSIfOffered, clientName: "worker.test",
        commandTimeout: .seconds(5), dataTimeout: .seconds(20))

    /// Starts the handshake on a fresh active channel and waits until the handlers are in place.
    static func start() async throws -> (NIOAsyncTestingChannel, Task<SMTPConnection, any Error>) {
        let channel = NIOAsyncTestingChannel()
        try await channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 25)).get()
        let task = Task { try await SMTPConnection.handshake(on: channel, configuration: Self.configuration) }
        while (try? await channel.pipeline.handler(type: SMTPChannelHandler.self).map { _ in true }.get()) != true {
            await Task.yield()
        }
        return (channel, task)
    }

    static func written(_ channel: NIOAsyncTestingChannel) async throws -> String {
        String(buffer: try await channel.waitForOutboundWrite(as: ByteBuffer.self))
    }

    static func ready(_ extensions: String = "250-srv\r\n250-PIPELINING\r\n250 SIZE 100000\r\n") async throws
        -> (NIOAsyncTestingChannel, SMTPConnection)
    {
        let (channel, task) = try await Self.start()
        try await channel.writeInbound(ByteBuffer(string: "220 srv ESMTP ready\r\n"))
        #expect(try await Self.written(channel) == "EHLO worker.test\r\n")
        try await channel.writeInbound(ByteBuffer(string: extensions))
        return (channel, try await task.value)
    }

    static func message() throws -> SMTPMessage {
        SMTPMessage(
            from: try SMTPAddress("noreply@decode.test"), to: [try SMTPAddress("a@b.io")], subject: "Hi",
            text: ".dot first\n", html: nil)
    }

    @Test func pipelinedTransactionEndToEnd() async throws {
        let (channel, connection) = try await Self.ready()
        #expect(connection.capabilities.pipelining)
        let send = Task { try await connection.send(try Self.message()) }
        let commands = try await Self.written(channel)
        #expect(commands.hasPrefix("MAIL FROM:<noreply@decode.test> SIZE="))
        #expect(commands.hasSuffix("\r\nRCPT TO:<a@b.io>\r\nDATA\r\n"))
        try await channel.writeInbound(ByteBuffer(string: "250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go ahead\r\n"))
        let content = try await Self.written(channel)
        #expect(content.contains("\r\n\r\n..dot first\r\n"))
        #expect(content.hasSuffix("\r\n.\r\n"))
        try await channel.writeInbound(ByteBuffer(string: "250 2.0.0 queued as 42\r\n"))
        let reply = try await send.value
        #expect(reply == SMTPReply(code: 250, enhancedCode: "2.0.0", lines: ["queued as 42"]))
        // Reuse: RSET, then QUIT closes.
        let reset = Task { try await connection.reset() }
        #expect(try await Self.written(channel) == "RSET\r\n")
        try await channel.writeInbound(ByteBuffer(string: "250 ok\r\n"))
        try await reset.value
        let quit = Task { await connection.quit() }
        #expect(try await Self.written(channel) == "QUIT\r\n")
        try await channel.writeInbound(ByteBuffer(string: "221 bye\r\n"))
        await quit.value
        #expect(!connection.isActive)
    }

    @Test func aSilentServerTimesOutTheStep() async throws {
        let (channel, task) = try await Self.start()
        try await channel.writeInbound(ByteBuffer(string: "220 srv\r\n"))
        _ = try await Self.written(channel)
        await channel.testingEventLoop.advanceTime(by: .seconds(6))
        let error = await #expect(throws: SMTPError.self) { try await task.value }
        #expect(error?.code == .timeout)
        #expect(error?.isTransient == true)
        #expect(error?.message.contains("EHLO") == true)
    }

    @Test func theEndOfDataWaitsForTheLongerTimeout() async throws {
        let (channel, connection) = try await Self.ready("250 srv\r\n")
        let send = Task { try await connection.send(try Self.message()) }
        #expect(try await Self.written(channel).hasPrefix("MAIL FROM:"))
        try await channel.writeInbound(ByteBuffer(string: "250 ok\r\n"))
        #expect(try await Self.written(channel) == "RCPT TO:<a@b.io>\r\n")
        try await channel.writeInbound(ByteBuffer(string: "250 ok\r\n"))
        #expect(try await Self.written(channel) == "DATA\r\n")
        try await channel.writeInbound(ByteBuffer(string: "354 go\r\n"))
        _ = try await Self.written(channel)
        // Past the command timeout, within the data timeout: still waiting.
        await channel.testingEventLoop.advanceTime(by: .seconds(10))
        try await channel.writeInbound(ByteBuffer(string: "250 ok\r\n"))
        #expect(try await send.value.code == 250)
    }

    @Test func aConnectionClosedMidTransactionFailsTransiently() async throws {
        let (channel, connection) = try await Self.ready()
        let send = Task { try await connection.send(try Self.message()) }
        _ = try await Self.written(channel)
        try await channel.writeInbound(ByteBuffer(string: "250 ok\r\n"))
        try await channel.close()
        let error = await #expect(throws: SMTPError.self) { try await send.value }
        #expect(error?.code == .connectionClosed)
        #expect(error?.isTransient == true)
    }

    @Test func garbageFromTheServerIsAProtocolViolation() async throws {
        let (channel, task) = try await Self.start()
        try await channel.writeInbound(ByteBuffer(string: "HTTP/1.1 400 Bad Request\r\n"))
        let error = await #expect(throws: SMTPError.self) { try await task.value }
        #expect(error?.code == .protocolViolation)
        #expect(!channel.isActive)
    }
}
