import AMQPProtocol
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

@testable import AMQPClient

/// Publishes through the channel handler against a scripted broker: returns, confirms and publishes
/// that cannot be encoded.
@Suite("AMQP channel handler: confirms, returns, encode failures")
struct AMQPChannelHandlerConfirmTests {
    typealias ScriptedBroker = AMQPChannelHandlerTests.ScriptedBroker

    /// An open connection with channel 1 in confirm mode (`finish` it: that fails what is pending).
    func confirmChannel() throws -> ScriptedBroker {
        let broker = try ScriptedBroker()
        try broker.open()
        let opened = broker.channel.eventLoop.makePromise(of: UInt16.self)
        try broker.channel.writeOutbound(AMQPHandlerTask.openChannel(opened))
        try broker.send(.method(channel: 1, .channel(.openOk)))
        _ = try opened.futureResult.wait()
        let selected = broker.channel.eventLoop.makePromise(of: AMQPReply.self)
        try broker.channel.writeOutbound(
            AMQPHandlerTask.request(channel: 1, method: .confirm(.select(noWait: false)), promise: selected))
        try broker.send(.method(channel: 1, .confirm(.selectOk)))
        _ = try selected.futureResult.wait()
        _ = try broker.received()
        return broker
    }

    func publish(
        _ broker: ScriptedBroker,
        routingKey: String = "q.dlq",
        properties: AMQPBasicProperties = AMQPBasicProperties()
    ) throws -> EventLoopFuture<Void> {
        let confirmed = broker.channel.eventLoop.makePromise(of: Void.self)
        try broker.channel.writeOutbound(
            AMQPHandlerTask.publish(
                channel: 1,
                .init(exchange: "", routingKey: routingKey, mandatory: true),
                properties: properties,
                body: ByteBuffer(string: #"{"pattern":"unknown_pattern","data":{}}"#),
                confirmed: confirmed
            )
        )
        return confirmed.futureResult
    }

    static func isComplete(_ future: EventLoopFuture<Void>) -> Bool {
        let done = NIOLockedValueBox(false)
        future.whenComplete { _ in done.withLockedValue { $0 = true } }
        return done.withLockedValue { $0 }
    }

    @Test func returnedPublishWithoutMessageIDFailsAndReachesTheReturnStream() async throws {
        let broker = try self.confirmChannel()
        defer { _ = try? broker.channel.finish() }
        let (returns, continuation) = AsyncStream<AMQPReturnedMessage>.makeStream()
        try broker.channel.writeOutbound(AMQPHandlerTask.setReturnSink(channel: 1, continuation))
        let first = try self.publish(broker)
        let second = try self.publish(broker)
        _ = try broker.received()

        // The broker returns the second copy, then acks it at once; the first is acked later.
        let body = ByteBuffer(string: #"{"pattern":"unknown_pattern","data":{}}"#)
        try broker.send(
            .method(
                channel: 1,
                .basic(.return(.init(replyCode: 312, replyText: "NO_ROUTE", exchange: "", routingKey: "q.dlq")))))
        try broker.send(
            .header(channel: 1, AMQPContentHeader(bodySize: UInt64(body.readableBytes), properties: .init())))
        try broker.send(.body(channel: 1, body))
        #expect(!Self.isComplete(second))
        try broker.send(.method(channel: 1, .basic(.ack(deliveryTag: 2, multiple: false))))
        let error = await #expect(throws: AMQPClientError.self) { try await second.get() }
        #expect(error?.code == .unroutable)
        #expect(error?.replyCode == 312)
        #expect(!Self.isComplete(first))
        try broker.send(.method(channel: 1, .basic(.ack(deliveryTag: 1, multiple: false))))
        try await first.get()

        var iterator = returns.makeAsyncIterator()
        let returned = try #require(await iterator.next())
        #expect(returned.routingKey == "q.dlq")
        #expect(returned.replyText == "NO_ROUTE")
    }

    @Test func publishThatCannotBeEncodedFailsItsCallerAndTakesNoDeliveryTag() throws {
        let broker = try self.confirmChannel()
        defer { _ = try? broker.channel.finish() }
        // A short string longer than 255 bytes cannot be encoded.
        let tooLong = try self.publish(
            broker, properties: AMQPBasicProperties(messageID: String(repeating: "x", count: 300)))
        try #require(Self.isComplete(tooLong), "the caller is left waiting")
        let error = #expect(throws: AMQPClientError.self) { try tooLong.wait() }
        #expect(error?.code == .invalidArgument)
        #expect(try broker.received().isEmpty)

        // The broker never saw it, so the next publish is delivery tag 1.
        let next = try self.publish(broker)
        #expect(try broker.received().count == 3)
        try broker.send(.method(channel: 1, .basic(.ack(deliveryTag: 1, multiple: false))))
        try #require(Self.isComplete(next), "the ack of tag 1 did not reach the publish the broker counted as 1")
        try next.wait()
    }

    @Test func requestThatCannotBeEncodedFailsItsCallerAndLeavesRepliesInOrder() throws {
        let broker = try self.confirmChannel()
        defer { _ = try? broker.channel.finish() }
        let tooLong = broker.channel.eventLoop.makePromise(of: AMQPReply.self)
        try broker.channel.writeOutbound(
            AMQPHandlerTask.request(
                channel: 1,
                method: .queue(.declare(.init(queue: String(repeating: "q", count: 300), passive: true))),
                promise: tooLong
            )
        )
        try #require(Self.isComplete(tooLong.futureResult.map { _ in }), "the caller is left waiting")
        let error = #expect(throws: AMQPClientError.self) { try tooLong.futureResult.wait() }
        #expect(error?.code == .invalidArgument)
        #expect(try broker.received().isEmpty)

        let declared = broker.channel.eventLoop.makePromise(of: AMQPReply.self)
        try broker.channel.writeOutbound(
            AMQPHandlerTask.request(
                channel: 1, method: .queue(.declare(.init(queue: "q", passive: true))), promise: declared)
        )
        _ = try broker.received()
        try broker.send(.method(channel: 1, .queue(.declareOk(queue: "q", messageCount: 4, consumerCount: 0))))
        guard case .method(.queue(.declareOk(let queue, let count, _))) = try declared.futureResult.wait() else {
            throw Failure("no declare-ok")
        }
        #expect(queue == "q")
        #expect(count == 4)
    }
}
