import NIOCore
import NIOTestUtils
import Testing

@testable import AMQPProtocol

@Suite("AMQP method and frame codec")
struct AMQPMethodCodecTests {
    static let table: AMQPFieldTable = ["x-max-priority": .int32(10), "nested": .table(["a": .bool(true)])]

    /// One value of every method of every class.
    static let everyMethod: [AMQPMethod] = [
        .connection(
            .start(.init(serverProperties: ["product": "RabbitMQ"], mechanisms: "AMQPLAIN PLAIN", locales: "en_US"))
        ),
        .connection(
            .startOk(
                .init(
                    clientProperties: table, mechanism: "PLAIN", response: ByteBuffer(bytes: [0, 97, 0, 98]),
                    locale: "en_US")
            )
        ),
        .connection(.secure(challenge: ByteBuffer(string: "challenge"))),
        .connection(.secureOk(response: ByteBuffer(string: "response"))),
        .connection(.tune(.init(channelMax: 2047, frameMax: 131_072, heartbeat: 60))),
        .connection(.tuneOk(.init(channelMax: 100, frameMax: 4096, heartbeat: 0))),
        .connection(.open(virtualHost: "/")),
        .connection(.openOk),
        .connection(.close(AMQPClose(replyCode: 320, replyText: "CONNECTION_FORCED", classID: 0, methodID: 0))),
        .connection(.closeOk),
        .connection(.blocked(reason: "low on memory")),
        .connection(.unblocked),
        .connection(.updateSecret(newSecret: ByteBuffer(string: "token"), reason: "refresh")),
        .connection(.updateSecretOk),
        .channel(.open),
        .channel(.openOk),
        .channel(.flow(active: true)),
        .channel(.flowOk(active: false)),
        .channel(.close(AMQPClose(replyCode: 404, replyText: "NOT_FOUND - no queue 'q'", classID: 50, methodID: 10))),
        .channel(.closeOk),
        .exchange(
            .declare(
                .init(
                    exchange: "x", type: "topic", passive: true, durable: true, autoDelete: true, internal: true,
                    noWait: true, arguments: table)
            )
        ),
        .exchange(.declareOk),
        .exchange(.delete(exchange: "x", ifUnused: true, noWait: false)),
        .exchange(.deleteOk),
        .exchange(.bind(.init(destination: "d", source: "s", routingKey: "k", noWait: true, arguments: table))),
        .exchange(.bindOk),
        .exchange(.unbind(.init(destination: "d", source: "s", routingKey: "k", noWait: false, arguments: [:]))),
        .exchange(.unbindOk),
        .queue(
            .declare(
                .init(
                    queue: "q", passive: false, durable: true, exclusive: true, autoDelete: false, noWait: true,
                    arguments: table))
        ),
        .queue(.declareOk(queue: "amq.gen-1", messageCount: 7, consumerCount: 2)),
        .queue(.bind(.init(queue: "q", exchange: "x", routingKey: "k", noWait: true, arguments: table))),
        .queue(.bindOk),
        .queue(.purge(queue: "q", noWait: true)),
        .queue(.purgeOk(messageCount: 12)),
        .queue(.delete(queue: "q", ifUnused: false, ifEmpty: true, noWait: true)),
        .queue(.deleteOk(messageCount: 3)),
        .queue(.unbind(.init(queue: "q", exchange: "x", routingKey: "k", noWait: false, arguments: table))),
        .queue(.unbindOk),
        .basic(.qos(prefetchSize: 0, prefetchCount: 50, global: true)),
        .basic(.qosOk),
        .basic(
            .consume(
                .init(
                    queue: "q", consumerTag: "c1", noLocal: true, noAck: false, exclusive: true, noWait: false,
                    arguments: table))),
        .basic(.consumeOk(consumerTag: "c1")),
        .basic(.cancel(consumerTag: "c1", noWait: true)),
        .basic(.cancelOk(consumerTag: "c1")),
        .basic(.publish(.init(exchange: "", routingKey: "email_queue", mandatory: true, immediate: false))),
        .basic(.return(.init(replyCode: 312, replyText: "NO_ROUTE", exchange: "", routingKey: "nowhere"))),
        .basic(
            .deliver(
                .init(consumerTag: "c1", deliveryTag: UInt64.max, redelivered: true, exchange: "", routingKey: "q"))),
        .basic(.get(queue: "q", noAck: true)),
        .basic(.getOk(.init(deliveryTag: 9, redelivered: false, exchange: "x", routingKey: "k", messageCount: 4))),
        .basic(.getEmpty),
        .basic(.ack(deliveryTag: 42, multiple: true)),
        .basic(.reject(deliveryTag: 43, requeue: false)),
        .basic(.recoverAsync(requeue: true)),
        .basic(.recover(requeue: false)),
        .basic(.recoverOk),
        .basic(.nack(deliveryTag: 44, multiple: false, requeue: true)),
        .confirm(.select(noWait: false)),
        .confirm(.selectOk),
        .tx(.select), .tx(.selectOk), .tx(.commit), .tx(.commitOk), .tx(.rollback), .tx(.rollbackOk),
    ]

    @Test(arguments: Self.everyMethod)
    func methodRoundTrips(_ method: AMQPMethod) throws {
        var buffer = ByteBuffer()
        try AMQPFrame.method(channel: 3, method).encode(into: &buffer)
        var decoder = AMQPFrameDecoder()
        let frame = try decoder.decode(buffer: &buffer)
        #expect(frame == .method(channel: 3, method))
        #expect(buffer.readableBytes == 0)
    }

    @Test func everyClassAndMethodIsCovered() {
        let ids = Set(Self.everyMethod.map { "\($0.ids.classID).\($0.ids.methodID)" })
        #expect(ids.count == Self.everyMethod.count)
        #expect(ids.count == 14 + 6 + 8 + 10 + 18 + 2 + 6)
    }

    @Test func bitsArePackedLowestFirst() throws {
        var buffer = ByteBuffer()
        try AMQPMethod.basic(.nack(deliveryTag: 1, multiple: false, requeue: true)).encode(into: &buffer)
        // class 60, method 120, delivery tag 1, bits: multiple (bit 0) off, requeue (bit 1) on.
        #expect(Array(buffer: buffer) == [0, 60, 0, 120, 0, 0, 0, 0, 0, 0, 0, 1, 0b10])
    }

    @Test func contentFramesRoundTrip() throws {
        let header = AMQPContentHeader(
            bodySize: 5, properties: AMQPBasicProperties(contentType: "text/plain", deliveryMode: 2))
        for frame in [AMQPFrame.header(channel: 1, header), .body(channel: 1, ByteBuffer(string: "hello")), .heartbeat]
        {
            var buffer = ByteBuffer()
            try frame.encode(into: &buffer)
            var decoder = AMQPFrameDecoder()
            #expect(try decoder.decode(buffer: &buffer) == frame)
        }
    }

    @Test func heartbeatFrameBytes() throws {
        var buffer = ByteBuffer()
        try AMQPFrame.heartbeat.encode(into: &buffer)
        #expect(Array(buffer: buffer) == [8, 0, 0, 0, 0, 0, 0, 0xCE])
    }

    @Test func decoderWaitsForWholeFramesAcrossReads() throws {
        var frames = ByteBuffer()
        var expected: [AMQPFrame] = []
        for index in 0..<5 {
            let frame = AMQPFrame.method(
                channel: UInt16(index), .basic(.ack(deliveryTag: UInt64(index), multiple: false)))
            try frame.encode(into: &frames)
            expected.append(frame)
        }
        let input = frames
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [(input, expected)],
            decoderFactory: { AMQPFrameDecoder() }
        )
    }

    @Test func decoderRejectsOversizedFramesBadFrameEndAndOtherProtocols() throws {
        var decoder = AMQPFrameDecoder(maxFrameSize: 4096)
        var oversized = ByteBuffer()
        try AMQPFrame.body(channel: 1, ByteBuffer(repeating: 0, count: 5000)).encode(into: &oversized)
        #expect(throws: AMQPProtocolError.self) { try decoder.decode(buffer: &oversized) }

        var badEnd = ByteBuffer()
        try AMQPFrame.heartbeat.encode(into: &badEnd)
        badEnd.setInteger(UInt8(0), at: 7)
        #expect(throws: AMQPProtocolError("frame-end octet missing")) { try decoder.decode(buffer: &badEnd) }

        var otherVersion = ByteBuffer(bytes: [0x41, 0x4D, 0x51, 0x50, 0, 1, 0, 0])
        #expect(throws: AMQPProtocolError("the broker only speaks AMQP 1-0-0")) {
            try decoder.decode(buffer: &otherVersion)
        }

        var unknownType = ByteBuffer(bytes: [9, 0, 0, 0, 0, 0, 0, 0xCE])
        #expect(throws: AMQPProtocolError("unknown frame type 9")) { try decoder.decode(buffer: &unknownType) }
    }

    @Test func shortStringsLongerThan255BytesAreRefused() {
        var buffer = ByteBuffer()
        let method = AMQPMethod.queue(.purge(queue: String(repeating: "q", count: 256), noWait: false))
        #expect(throws: AMQPProtocolError("short string of 256 bytes exceeds 255")) {
            try method.encode(into: &buffer)
        }
    }

    @Test func truncatedMethodIsAnError() throws {
        var buffer = ByteBuffer()
        try AMQPMethod.queue(.declareOk(queue: "q", messageCount: 1, consumerCount: 1)).encode(into: &buffer)
        var truncated = buffer.getSlice(at: 0, length: buffer.readableBytes - 2) ?? ByteBuffer()
        #expect(throws: AMQPProtocolError.self) { try AMQPMethod.decode(from: &truncated) }
    }
}
