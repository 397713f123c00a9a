import NIOCore
import NIOEmbedded
import Testing

@testable import BoltClient

/// The channel handler against a scripted server on an `EmbeddedChannel`: bytes in, bytes out.
@Suite struct BoltChannelHandlerTests {
    private func frame(_ response: BoltResponse) -> ByteBuffer {
        var message = ByteBuffer()
        response.encode(into: &message)
        var framed = ByteBuffer()
        BoltFrameEncoder.writeChunked(message, into: &framed)
        return framed
    }

    /// Reads every request the handler wrote since the last call, decoded back to tag and fields.
    private func written(_ channel: EmbeddedChannel) throws -> [(tag: UInt8, fields: [BoltValue])] {
        var requests: [(UInt8, [BoltValue])] = []
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            var message = ByteBuffer()
            while let size = buffer.readInteger(as: UInt16.self) {
                if size == 0 {
                    let (count, tag) = try PackStreamDecoder.readStructureHeader(&message)
                    var fields: [BoltValue] = []
                    for _ in 0..<count { fields.append(try PackStreamDecoder.decode(&message)) }
                    requests.append((tag, fields))
                    message = ByteBuffer()
                } else if var chunk = buffer.readSlice(length: Int(size)) {
                    message.writeBuffer(&chunk)
                }
            }
        }
        return requests
    }

    private func connected() throws -> (EmbeddedChannel, BoltChannelHandler) {
        let channel = EmbeddedChannel()
        let handler = BoltChannelHandler(eventLoop: channel.eventLoop)
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 7687)).wait()
        let preamble = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(preamble.readableBytes == 20)
        #expect(preamble.getInteger(at: 0, as: UInt32.self) == 0x6060_B017)
        try channel.writeInbound(ByteBuffer(bytes: [0, 0, 4, 4]))
        #expect(try handler.negotiated.futureResult.wait() == BoltVersion(4, 4))
        return (channel, handler)
    }

    private func send(
        _ requests: [BoltRequest], on channel: EmbeddedChannel
    ) throws -> [EventLoopFuture<BoltSummary>] {
        let promises = requests.map { _ in channel.eventLoop.makePromise(of: BoltSummary.self) }
        try channel.writeOutbound(BoltOutbound(requests: requests, promises: promises))
        return promises.map(\.futureResult)
    }

    @Test func pipelinedRunAndPullCollectRecords() throws {
        let (channel, _) = try self.connected()
        let hello = try self.send([.hello(extra: ["user_agent": "t"])], on: channel)
        try channel.writeInbound(self.frame(.success(["server": "Neo4j/4.4"])))
        #expect(try hello[0].wait().metadata["server"] == "Neo4j/4.4")
        let futures = try self.send(
            [.run(query: "RETURN 1 AS x", parameters: [:], extra: [:]), .pull(n: 10, qid: -1)], on: channel)
        let sent = try self.written(channel)
        #expect(sent.map(\.tag) == [0x01, 0x10, 0x3F])
        #expect(sent[2].fields == [["n": 10]])
        var inbound = self.frame(.success(["fields": ["x"]]))
        var record = self.frame(.record([1]))
        var done = self.frame(.success(["type": "r"]))
        inbound.writeBuffer(&record)
        inbound.writeBuffer(&done)
        try channel.writeInbound(inbound)
        #expect(try futures[0].wait().metadata["fields"] == ["x"])
        #expect(try futures[1].wait().records == [[1]])
    }

    @Test func aFailureIgnoresThePipelineAndSendsResetOnItsOwn() throws {
        let (channel, handler) = try self.connected()
        _ = try self.send([.hello(extra: [:])], on: channel)
        try channel.writeInbound(self.frame(.success([:])))
        let futures = try self.send(
            [.run(query: "BAD", parameters: [:], extra: [:]), .pull(n: -1, qid: -1)], on: channel)
        _ = try self.written(channel)
        try channel.writeInbound(
            self.frame(.failure(["code": "Neo.ClientError.Statement.SyntaxError", "message": "Invalid input"])))
        try channel.writeInbound(self.frame(.ignored))
        #expect(throws: BoltError(.server, code: "Neo.ClientError.Statement.SyntaxError", "Invalid input")) {
            try futures[0].wait()
        }
        #expect(throws: BoltError.self) { try futures[1].wait() }
        // The handler wrote RESET (0x0F) by itself.
        #expect(try self.written(channel).map(\.tag) == [0x0F])
        #expect(!handler.isIdle)
        try channel.writeInbound(self.frame(.success([:])))
        #expect(handler.isIdle)
    }

    @Test func aResponseOutOfStepClosesAndFailsWhatIsPending() throws {
        let (channel, _) = try self.connected()
        let futures = try self.send([.hello(extra: [:])], on: channel)
        try channel.writeInbound(self.frame(.record([1])))
        #expect(throws: BoltError.self) { try futures[0].wait() }
        #expect(!channel.isActive)
    }

    @Test func anUnofferedVersionCloses() throws {
        let channel = EmbeddedChannel()
        let handler = BoltChannelHandler(eventLoop: channel.eventLoop)
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 7687)).wait()
        try channel.writeInbound(ByteBuffer(bytes: [0, 0, 0, 0]))
        #expect(throws: BoltError.self) { try handler.negotiated.futureResult.wait() }
        #expect(try handler.closed.futureResult.wait().kind == .unsupportedVersion)
    }
}
