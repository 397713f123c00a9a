import AMQPProtocol
import NIOCore
import Testing

@testable import AMQPClient

@Suite("AMQP connection state machine")
struct AMQPConnectionStateMachineTests {
    static let start = AMQPFrame.method(
        channel: 0,
        .connection(
            .start(.init(serverProperties: ["product": "RabbitMQ"], mechanisms: "AMQPLAIN PLAIN", locales: "en_US")))
    )

    func configuration(heartbeat: UInt16 = 10) -> AMQPConnectionConfiguration {
        AMQPConnectionConfiguration(username: "decode", password: "s3cret", virtualHost: "/prod", heartbeat: heartbeat)
    }

    /// Drives a machine to `open`; returns it.
    func openMachine(heartbeat: UInt16 = 10) -> AMQPConnectionStateMachine {
        var machine = AMQPConnectionStateMachine(configuration: self.configuration(heartbeat: heartbeat))
        _ = machine.connected()
        _ = machine.frameReceived(Self.start)
        _ = machine.frameReceived(
            .method(channel: 0, .connection(.tune(.init(channelMax: 2047, frameMax: 131_072, heartbeat: 60)))))
        _ = machine.frameReceived(.method(channel: 0, .connection(.openOk)))
        return machine
    }

    @Test func handshakeSendsHeaderStartOkTuneOkAndOpen() throws {
        var machine = AMQPConnectionStateMachine(configuration: self.configuration())
        guard case .sendProtocolHeader = machine.connected() else { throw Failure("no protocol header") }

        guard case .sendFrames(let frames) = machine.frameReceived(Self.start),
            case .method(0, .connection(.startOk(let startOk))) = frames.first
        else { throw Failure("no start-ok") }
        #expect(startOk.mechanism == "PLAIN")
        #expect(Array(buffer: startOk.response) == Array("\0decode\0s3cret".utf8))
        #expect(startOk.clientProperties["product"]?.stringValue == "decode-async")

        let tune = AMQPFrame.method(
            channel: 0, .connection(.tune(.init(channelMax: 2047, frameMax: 131_072, heartbeat: 60))))
        guard case .tune(let tuning, let sent) = machine.frameReceived(tune) else { throw Failure("no tune-ok") }
        #expect(tuning == .init(channelMax: 2047, frameMax: 131_072, heartbeat: 10))
        #expect(
            sent == [
                .method(channel: 0, .connection(.tuneOk(.init(channelMax: 2047, frameMax: 131_072, heartbeat: 10)))),
                .method(channel: 0, .connection(.open(virtualHost: "/prod"))),
            ]
        )
        guard case .opened = machine.frameReceived(.method(channel: 0, .connection(.openOk))) else {
            throw Failure("not opened")
        }
        #expect(machine.state == .open(tuning))
    }

    @Test func tuningTakesTheLowerNonZeroValue() {
        #expect(AMQPConnectionStateMachine.negotiate(UInt16(0), UInt16(60)) == 60)
        #expect(AMQPConnectionStateMachine.negotiate(UInt16(30), UInt16(0)) == 30)
        #expect(AMQPConnectionStateMachine.negotiate(UInt32(131_072), UInt32(4096)) == 4096)
    }

    @Test func missingMechanismFailsAuthentication() throws {
        var machine = AMQPConnectionStateMachine(configuration: self.configuration())
        _ = machine.connected()
        let start = AMQPFrame.method(
            channel: 0,
            .connection(.start(.init(serverProperties: [:], mechanisms: "EXTERNAL", locales: "en_US")))
        )
        guard case .shutDown(let error) = machine.frameReceived(start) else { throw Failure("not shut down") }
        #expect(error.code == .authenticationFailed)
    }

    @Test func accessRefusedDuringHandshakeIsAnAuthenticationFailure() throws {
        var machine = AMQPConnectionStateMachine(configuration: self.configuration())
        _ = machine.connected()
        _ = machine.frameReceived(Self.start)
        let close = AMQPFrame.method(
            channel: 0,
            .connection(.close(AMQPClose(replyCode: 403, replyText: "ACCESS_REFUSED - Login was refused")))
        )
        guard case .acknowledgeCloseAndShutDown(let error) = machine.frameReceived(close) else {
            throw Failure("close not acknowledged")
        }
        #expect(error.code == .authenticationFailed)
        #expect(error.replyCode == 403)
    }

    @Test func silentPeerIsDetectedWithinTwoIntervals() throws {
        var machine = self.openMachine()
        // Ticks come every half interval: three silent ticks only send heartbeats.
        for _ in 0..<3 {
            guard case .sendHeartbeat = machine.heartbeatTimerFired() else { throw Failure("no heartbeat sent") }
        }
        guard case .shutDown(let error) = machine.heartbeatTimerFired() else { throw Failure("silence not detected") }
        #expect(error.code == .heartbeatTimeout)
        #expect(machine.state == .closed)
    }

    @Test func anyInboundFrameResetsTheSilenceCount() throws {
        var machine = self.openMachine()
        for _ in 0..<10 {
            _ = machine.heartbeatTimerFired()
            _ = machine.heartbeatTimerFired()
            _ = machine.frameReceived(.heartbeat)
        }
        guard case .sendHeartbeat = machine.heartbeatTimerFired() else { throw Failure("closed too early") }
    }

    @Test func brokerCloseIsAcknowledgedWithItsReplyCode() throws {
        var machine = self.openMachine()
        let close = AMQPFrame.method(
            channel: 0,
            .connection(.close(AMQPClose(replyCode: 320, replyText: "CONNECTION_FORCED - shutdown")))
        )
        guard case .acknowledgeCloseAndShutDown(let error) = machine.frameReceived(close) else {
            throw Failure("close not acknowledged")
        }
        #expect(error.code == .connectionClosedByServer)
        #expect(error.replyCode == 320)
        #expect(error.isTransient)
    }

    @Test func clientCloseWaitsForCloseOk() throws {
        var machine = self.openMachine()
        guard case .sendCloseAndWait(let close) = machine.closeRequested() else { throw Failure("no close sent") }
        #expect(close.replyCode == 200)
        // Frames of channels arriving meanwhile are ignored.
        guard case .none = machine.frameReceived(.method(channel: 1, .basic(.qosOk))) else {
            throw Failure("not ignored")
        }
        guard case .shutDown(let error) = machine.frameReceived(.method(channel: 0, .connection(.closeOk))) else {
            throw Failure("not shut down")
        }
        #expect(error.code == .connectionClosed)
    }

    @Test func blockedAndUnblockedAreReported() throws {
        var machine = self.openMachine()
        guard
            case .blocked(let reason) = machine.frameReceived(
                .method(channel: 0, .connection(.blocked(reason: "low on memory"))))
        else { throw Failure("not blocked") }
        #expect(reason == "low on memory")
        guard case .unblocked = machine.frameReceived(.method(channel: 0, .connection(.unblocked))) else {
            throw Failure("not unblocked")
        }
    }

    @Test func channelFramesAreForwardedOnlyWhenOpen() throws {
        var machine = self.openMachine()
        guard case .forwardToChannel(5, _) = machine.frameReceived(.method(channel: 5, .channel(.openOk))) else {
            throw Failure("not forwarded")
        }
        var early = AMQPConnectionStateMachine(configuration: self.configuration())
        _ = early.connected()
        guard case .shutDown(let error) = early.frameReceived(.method(channel: 5, .channel(.openOk))) else {
            throw Failure("violation not detected")
        }
        #expect(error.code == .protocolViolation)
    }

    @Test func socketLossFailsWithConnectionLost() throws {
        var machine = self.openMachine()
        guard case .shutDown(let error) = machine.channelInactive() else { throw Failure("not shut down") }
        #expect(error.code == .connectionLost)
        guard case .none = machine.channelInactive() else { throw Failure("shut down twice") }
    }
}

struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
