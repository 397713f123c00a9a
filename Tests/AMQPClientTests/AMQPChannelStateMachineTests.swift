import AMQPProtocol
import NIOCore
import NIOEmbedded
import Testing

@testable import AMQPClient

@Suite("AMQP channel state machine")
struct AMQPChannelStateMachineTests {
    func openChannel() -> AMQPChannelStateMachine {
        var machine = AMQPChannelStateMachine(channelID: 1)
        _ = machine.frameReceived(.method(channel: 1, .channel(.openOk)))
        return machine
    }

    @Test func repliesAnswerRequestsInOrder() throws {
        var machine = self.openChannel()
        machine.requestSent()
        machine.requestSent()
        guard
            case .replyReceived(.queue(.declareOk(let queue, _, _))) = machine.frameReceived(
                .method(channel: 1, .queue(.declareOk(queue: "q", messageCount: 0, consumerCount: 0)))
            )
        else { throw Failure("no reply") }
        #expect(queue == "q")
        guard case .replyReceived(.basic(.qosOk)) = machine.frameReceived(.method(channel: 1, .basic(.qosOk))) else {
            throw Failure("no second reply")
        }
        guard case .connectionViolation = machine.frameReceived(.method(channel: 1, .basic(.qosOk))) else {
            throw Failure("a reply without request was accepted")
        }
    }

    @Test func deliveryIsAssembledFromHeaderAndSeveralBodyFrames() throws {
        var machine = self.openChannel()
        let deliver = AMQPMethod.basic(
            .deliver(.init(consumerTag: "c", deliveryTag: 7, redelivered: true, exchange: "", routingKey: "q")))
        guard case .none = machine.frameReceived(.method(channel: 1, deliver)) else { throw Failure("early") }
        let properties = AMQPBasicProperties(messageID: "m-1")
        guard
            case .none = machine.frameReceived(
                .header(channel: 1, AMQPContentHeader(bodySize: 10, properties: properties)))
        else { throw Failure("early") }
        guard case .none = machine.frameReceived(.body(channel: 1, ByteBuffer(string: "hello"))) else {
            throw Failure("early")
        }
        guard case .deliver(let delivery) = machine.frameReceived(.body(channel: 1, ByteBuffer(string: "world"))) else {
            throw Failure("no delivery")
        }
        #expect(String(buffer: delivery.body) == "helloworld")
        #expect(delivery.deliveryTag == 7)
        #expect(delivery.redelivered)
        #expect(delivery.consumerTag == "c")
        #expect(delivery.properties.messageID == "m-1")
    }

    @Test func emptyBodyCompletesOnTheHeader() throws {
        var machine = self.openChannel()
        let deliver = AMQPMethod.basic(
            .deliver(.init(consumerTag: "c", deliveryTag: 1, redelivered: false, exchange: "", routingKey: "q")))
        _ = machine.frameReceived(.method(channel: 1, deliver))
        guard
            case .deliver(let delivery) = machine.frameReceived(
                .header(channel: 1, AMQPContentHeader(bodySize: 0, properties: AMQPBasicProperties()))
            )
        else { throw Failure("no delivery") }
        #expect(delivery.body.readableBytes == 0)
    }

    @Test func contentOutOfOrderIsAViolation() throws {
        var machine = self.openChannel()
        guard case .connectionViolation = machine.frameReceived(.body(channel: 1, ByteBuffer(string: "x"))) else {
            throw Failure("body without header accepted")
        }
        var overflowing = self.openChannel()
        _ = overflowing.frameReceived(
            .method(
                channel: 1,
                .basic(
                    .deliver(.init(consumerTag: "c", deliveryTag: 1, redelivered: false, exchange: "", routingKey: "q"))
                ))
        )
        _ = overflowing.frameReceived(
            .header(channel: 1, AMQPContentHeader(bodySize: 2, properties: AMQPBasicProperties())))
        guard case .connectionViolation = overflowing.frameReceived(.body(channel: 1, ByteBuffer(string: "xyz"))) else {
            throw Failure("oversized body accepted")
        }
    }

    @Test func getOkAndGetEmptyAnswerTheGet() throws {
        var machine = self.openChannel()
        machine.requestSent()
        guard case .getReceived(nil) = machine.frameReceived(.method(channel: 1, .basic(.getEmpty))) else {
            throw Failure("no empty get")
        }
        machine.requestSent()
        _ = machine.frameReceived(
            .method(
                channel: 1,
                .basic(
                    .getOk(.init(deliveryTag: 3, redelivered: false, exchange: "", routingKey: "q", messageCount: 5))))
        )
        _ = machine.frameReceived(
            .header(channel: 1, AMQPContentHeader(bodySize: 1, properties: AMQPBasicProperties())))
        guard case .getReceived(let result?) = machine.frameReceived(.body(channel: 1, ByteBuffer(string: "x"))) else {
            throw Failure("no get result")
        }
        #expect(result.messageCount == 5)
        #expect(machine.pendingReplies == 0)
    }

    @Test func confirmTagsCountFromOneAfterSelectOk() throws {
        let loop = EmbeddedEventLoop()
        var machine = self.openChannel()
        let unconfirmed = loop.makePromise(of: Void.self)
        #expect(machine.messagePublished(confirmed: unconfirmed) == nil)
        #expect(machine.unconfirmedCount == 0)
        unconfirmed.succeed()
        machine.requestSent()
        _ = machine.frameReceived(.method(channel: 1, .confirm(.selectOk)))
        #expect(machine.messagePublished(confirmed: loop.makePromise()) == 1)
        #expect(machine.messagePublished(confirmed: loop.makePromise()) == 2)
        #expect(machine.unconfirmedCount == 2)
        for promise in machine.connectionClosed() {
            promise.fail(AMQPClientError(.connectionLost))
        }
    }

    @Test func serverCloseIsAcknowledged() throws {
        var machine = self.openChannel()
        let close = AMQPClose(replyCode: 406, replyText: "PRECONDITION_FAILED", classID: 50, methodID: 10)
        guard
            case .closedByServer(let received, let reply, _) = machine.frameReceived(
                .method(channel: 1, .channel(.close(close))))
        else { throw Failure("no close") }
        #expect(received == close)
        #expect(reply == .method(channel: 1, .channel(.closeOk)))
        #expect(machine.state == .closed)
    }

    @Test func serverCancelAsksForCancelOk() throws {
        var machine = self.openChannel()
        guard
            case .consumerCancelled(let tag, let reply) = machine.frameReceived(
                .method(channel: 1, .basic(.cancel(consumerTag: "c9", noWait: false)))
            )
        else { throw Failure("no cancel") }
        #expect(tag == "c9")
        #expect(reply == .method(channel: 1, .basic(.cancelOk(consumerTag: "c9"))))
    }

    @Test func contentArrivingWhileClosingIsSwallowedWhole() throws {
        var machine = self.openChannel()
        _ = machine.closeRequested()
        let deliver = AMQPMethod.basic(
            .deliver(.init(consumerTag: "c", deliveryTag: 9, redelivered: false, exchange: "", routingKey: "q")))
        guard case .none = machine.frameReceived(.method(channel: 1, deliver)) else { throw Failure("not discarded") }
        guard
            case .none = machine.frameReceived(
                .header(channel: 1, AMQPContentHeader(bodySize: 3, properties: AMQPBasicProperties())))
        else { throw Failure("header not swallowed") }
        guard case .none = machine.frameReceived(.body(channel: 1, ByteBuffer(string: "abc"))) else {
            throw Failure("body not swallowed")
        }
        guard case .closed = machine.frameReceived(.method(channel: 1, .channel(.closeOk))) else {
            throw Failure("not closed")
        }
    }

    @Test func afterOurCloseOnlyCloseOkCounts() throws {
        var machine = self.openChannel()
        guard case .send(let frames) = machine.closeRequested() else { throw Failure("no close") }
        #expect(frames.count == 1)
        guard case .none = machine.frameReceived(.method(channel: 1, .basic(.qosOk))) else {
            throw Failure("not discarded")
        }
        guard case .closed = machine.frameReceived(.method(channel: 1, .channel(.closeOk))) else {
            throw Failure("not closed")
        }
    }
}
