import AMQPProtocol
import NIOCore
import NIOEmbedded
import Testing

@testable import AMQPClient

/// Publisher confirms and returns in the channel state machine: which publish each `basic.ack`,
/// `basic.nack`, `basic.return` and close settles, whatever the messages' properties.
@Suite("AMQP channel state machine: confirms and returns")
struct AMQPChannelStateMachineConfirmTests {
    /// An open confirm-mode channel and the promises of what was published on it, by delivery tag.
    struct Publisher {
        let loop = EmbeddedEventLoop()
        var machine = AMQPChannelStateMachine(channelID: 1)
        var promises: [UInt64: EventLoopPromise<Void>] = [:]

        init() {
            _ = self.machine.frameReceived(.method(channel: 1, .channel(.openOk)))
            self.machine.requestSent()
            _ = self.machine.frameReceived(.method(channel: 1, .confirm(.selectOk)))
        }

        mutating func publish(_ count: Int) throws {
            for _ in 0..<count {
                let promise = self.loop.makePromise(of: Void.self)
                guard let tag = self.machine.messagePublished(confirmed: promise) else {
                    promise.fail(AMQPClientError(.channelClosed))
                    throw Failure("not in confirm mode")
                }
                self.promises[tag] = promise
            }
        }

        /// Feeds a `basic.return` (method, header, body) of a message with these properties.
        mutating func returned(
            routingKey: String,
            properties: AMQPBasicProperties = AMQPBasicProperties(),
            body: String = #"{"pattern":"unknown_pattern","data":{}}"#
        ) throws -> AMQPReturnedMessage {
            let method = AMQPMethod.basic(
                .return(.init(replyCode: 312, replyText: "NO_ROUTE", exchange: "", routingKey: routingKey)))
            guard case .none = self.machine.frameReceived(.method(channel: 1, method)) else {
                throw Failure("return completed early")
            }
            let header = AMQPContentHeader(bodySize: UInt64(body.utf8.count), properties: properties)
            guard case .none = self.machine.frameReceived(.header(channel: 1, header)) else {
                throw Failure("return completed early")
            }
            guard case .returned(let message) = self.machine.frameReceived(.body(channel: 1, ByteBuffer(string: body)))
            else { throw Failure("no returned message for the return stream") }
            return message
        }

        /// Feeds a confirm and completes the promises it settles as the handler does; returns each
        /// settled tag with "ok" or its error code.
        mutating func confirmed(_ method: AMQPMethod) throws -> [UInt64: String] {
            let action = self.machine.frameReceived(.method(channel: 1, method))
            guard case .completePublishes(let completions) = action else { return [:] }
            return try self.complete(completions)
        }

        mutating func complete(_ completions: [AMQPChannelStateMachine.PublishCompletion]) throws -> [UInt64: String] {
            var outcome: [UInt64: String] = [:]
            for completion in completions {
                let tag = try #require(
                    self.promises.first { $0.value.futureResult == completion.promise.futureResult }?.key)
                self.promises[tag] = nil
                switch completion.result {
                case .success: outcome[tag] = "ok"
                case .failure(let error): outcome[tag] = "\(error.code)"
                }
                completion.promise.completeWith(completion.result.mapError { $0 as any Error })
            }
            return outcome
        }

        /// Fails whatever is still unconfirmed, so no promise leaks.
        mutating func finish() {
            for promise in self.machine.connectionClosed() {
                promise.fail(AMQPClientError(.connectionLost))
            }
            for promise in self.promises.values {
                promise.fail(AMQPClientError(.connectionLost))
            }
            self.promises.removeAll()
        }
    }

    @Test func returnFollowedByItsAckFailsThePublishWithoutMessageID() throws {
        var publisher = Publisher()
        defer { publisher.finish() }
        // Three NestJS-style messages: no properties, same routing key, same body.
        try publisher.publish(3)
        #expect(try publisher.confirmed(.basic(.ack(deliveryTag: 1, multiple: false))) == [1: "ok"])
        let message = try publisher.returned(routingKey: "q.dlq")
        #expect(message.routingKey == "q.dlq")
        #expect(message.properties.messageID == nil)
        #expect(try publisher.confirmed(.basic(.ack(deliveryTag: 2, multiple: false))) == [2: "unroutable"])
        // The return is spent: the next ack is a plain success.
        #expect(try publisher.confirmed(.basic(.ack(deliveryTag: 3, multiple: false))) == [3: "ok"])
        #expect(publisher.machine.unconfirmedCount == 0)
    }

    @Test func returnFailsThePublishItsAckNamesWhateverTheMessageID() throws {
        var publisher = Publisher()
        defer { publisher.finish() }
        try publisher.publish(3)
        // The returned copy says m-1, but the broker acks tag 3 after it: tag 3 was returned.
        _ = try publisher.returned(routingKey: "q.retry.1", properties: AMQPBasicProperties(messageID: "m-1"))
        #expect(try publisher.confirmed(.basic(.ack(deliveryTag: 3, multiple: false))) == [3: "unroutable"])
        #expect(try publisher.confirmed(.basic(.ack(deliveryTag: 2, multiple: true))) == [1: "ok", 2: "ok"])
    }

    @Test func unroutableErrorCarriesTheBrokersReply() throws {
        var publisher = Publisher()
        defer { publisher.finish() }
        try publisher.publish(1)
        _ = try publisher.returned(routingKey: "nowhere", properties: AMQPBasicProperties(messageID: "m-1"))
        guard
            case .completePublishes(let completions) = publisher.machine.frameReceived(
                .method(channel: 1, .basic(.ack(deliveryTag: 1, multiple: false))))
        else { throw Failure("no completion") }
        guard case .failure(let error) = try #require(completions.first).result else {
            throw Failure("the returned publish succeeded")
        }
        #expect(error.code == .unroutable)
        #expect(error.replyCode == 312)
        #expect(error.replyText == "NO_ROUTE")
        _ = try publisher.complete(completions)
    }

    @Test func returnThenMultipleAckFailsOnlyTheLastTag() throws {
        var publisher = Publisher()
        defer { publisher.finish() }
        try publisher.publish(4)
        _ = try publisher.returned(routingKey: "q.dlq")
        #expect(
            try publisher.confirmed(.basic(.ack(deliveryTag: 3, multiple: true)))
                == [1: "ok", 2: "ok", 3: "unroutable"]
        )
        #expect(try publisher.confirmed(.basic(.ack(deliveryTag: 4, multiple: true))) == [4: "ok"])
    }

    @Test func nackFailsEveryPublishItNames() throws {
        var publisher = Publisher()
        defer { publisher.finish() }
        try publisher.publish(3)
        #expect(
            try publisher.confirmed(.basic(.nack(deliveryTag: 2, multiple: true, requeue: false)))
                == [1: "publishNacked", 2: "publishNacked"]
        )
        // A return before a nack: the nack wins and spends the return.
        _ = try publisher.returned(routingKey: "q.dlq")
        #expect(
            try publisher.confirmed(.basic(.nack(deliveryTag: 3, multiple: false, requeue: false)))
                == [3: "publishNacked"])
        // Unknown tags settle nothing.
        #expect(try publisher.confirmed(.basic(.ack(deliveryTag: 9, multiple: false))) == [:])
    }

    @Test func closeFailsEveryUnconfirmedPublish() throws {
        var byServer = Publisher()
        defer { byServer.finish() }
        try byServer.publish(2)
        let close = AMQPClose(replyCode: 404, replyText: "NOT_FOUND", classID: 60, methodID: 40)
        guard
            case .closedByServer(_, _, let unconfirmed) = byServer.machine.frameReceived(
                .method(channel: 1, .channel(.close(close))))
        else { throw Failure("no close") }
        let published = byServer.promises.values.map(\.futureResult)
        #expect(unconfirmed.count == 2)
        #expect(unconfirmed.allSatisfy { published.contains($0.futureResult) })
        #expect(byServer.machine.unconfirmedCount == 0)

        var byUs = Publisher()
        defer { byUs.finish() }
        try byUs.publish(2)
        _ = byUs.machine.closeRequested()
        // Acks after our close are discarded (section 2.2.4); close-ok fails what is left.
        #expect(try byUs.confirmed(.basic(.ack(deliveryTag: 1, multiple: false))) == [:])
        guard case .closed(let left) = byUs.machine.frameReceived(.method(channel: 1, .channel(.closeOk))) else {
            throw Failure("not closed")
        }
        #expect(left.count == 2)

        var lost = Publisher()
        defer { lost.finish() }
        try lost.publish(3)
        #expect(lost.machine.connectionClosed().count == 3)
        #expect(!lost.machine.isOpen)
    }
}
