import Testing

@testable import HTTPServerLimits

/// The connection's phases driven event by event, without I/O.
@Suite struct HTTPLimitsStateMachineTests {
    typealias Machine = HTTPLimitsStateMachine

    /// A machine past one complete exchange: idle on a keep-alive connection.
    func idleMachine() -> Machine {
        var machine = Machine()
        _ = machine.connectionActivated()
        _ = machine.headReceived()
        _ = machine.requestEndReceived()
        _ = machine.readCompleted()
        _ = machine.responseHeadSent(status: 200)
        #expect(machine.responseEndSent() == .startTimer(.idle))
        return machine
    }

    @Test func aSilentNewConnectionIsClosedWithoutAnAnswerAtTheHeadTimeout() {
        var machine = Machine()
        #expect(machine.connectionActivated() == .startTimer(.head))
        #expect(machine.timerFired(.head) == .close)
        #expect(machine.state == .closed)
    }

    @Test func aHalfSentHeadGets408AndACloseAtTheHeadTimeout() {
        var machine = Machine()
        #expect(machine.connectionActivated() == .startTimer(.head))
        // Bytes arrived, the decoder delivered nothing: a partial head. The timer keeps running from the accept.
        #expect(machine.readCompleted() == .none)
        #expect(machine.state == .readingHead)
        #expect(machine.timerFired(.head) == .refuseAndClose(.requestTimeout))
    }

    @Test func aCompleteHeadStopsTheHeadTimer() {
        var machine = Machine()
        _ = machine.connectionActivated()
        _ = machine.readCompleted()
        #expect(machine.headReceived() == .cancelTimer)
        // A timer that lost the race does nothing.
        #expect(machine.timerFired(.head) == .none)
        #expect(machine.state == .busy(pendingResponses: 1, readingBody: true))
    }

    @Test func aParkedResponseIsNeverTimedOut() {
        var machine = Machine()
        _ = machine.connectionActivated()
        _ = machine.headReceived()
        #expect(machine.requestEndReceived() == .none)
        #expect(machine.readCompleted() == .none)
        #expect(machine.state == .busy(pendingResponses: 1, readingBody: false))
        #expect(machine.timerFired(.head) == .none)
        #expect(machine.timerFired(.idle) == .none)
        #expect(machine.responseHeadSent(status: 200) == .none)
        #expect(machine.responseEndSent() == .startTimer(.idle))
    }

    @Test func anIdleKeepAliveConnectionIsClosedAtTheIdleTimeout() {
        var machine = self.idleMachine()
        #expect(machine.state == .idle)
        #expect(machine.timerFired(.idle) == .close)
    }

    @Test func theNextRequestsFirstBytesStartTheHeadTimer() {
        var machine = self.idleMachine()
        #expect(machine.readCompleted() == .startTimer(.head))
        #expect(machine.timerFired(.idle) == .none)
        #expect(machine.timerFired(.head) == .refuseAndClose(.requestTimeout))
    }

    @Test func aReadThatDeliveredPartsIsNoPartialHead() {
        var machine = Machine()
        _ = machine.connectionActivated()
        _ = machine.headReceived()
        _ = machine.requestEndReceived()
        // The response ended within the same read: idle, and the read's end starts no head timer.
        _ = machine.responseHeadSent(status: 204)
        #expect(machine.responseEndSent() == .startTimer(.idle))
        #expect(machine.readCompleted() == .none)
        #expect(machine.state == .idle)
    }

    @Test func anEarlyResponseWaitsForTheBodyBeforeIdle() {
        var machine = Machine()
        _ = machine.connectionActivated()
        _ = machine.headReceived()
        _ = machine.responseHeadSent(status: 413)
        #expect(machine.responseEndSent() == .none)
        #expect(machine.bodyReceived() == .none)
        #expect(machine.requestEndReceived() == .startTimer(.idle))
    }

    @Test func pipelinedRequestsStayBusyUntilTheLastResponse() {
        var machine = Machine()
        _ = machine.connectionActivated()
        _ = machine.headReceived()
        _ = machine.requestEndReceived()
        #expect(machine.headReceived() == .none)
        _ = machine.requestEndReceived()
        #expect(machine.responseEndSent() == .none)
        #expect(machine.responseEndSent() == .startTimer(.idle))
    }

    @Test func anOversizedHeadGets431() {
        var machine = Machine()
        _ = machine.connectionActivated()
        _ = machine.readCompleted()
        #expect(machine.parserErrorReceived(headTooLarge: true) == .refuseAndClose(.headerFieldsTooLarge))
        #expect(machine.state == .closed)
        #expect(machine.timerFired(.head) == .none)
    }

    @Test func garbageGets400() {
        var machine = Machine()
        _ = machine.connectionActivated()
        #expect(machine.parserErrorReceived(headTooLarge: false) == .refuseAndClose(.badRequest))
        var idle = self.idleMachine()
        #expect(idle.parserErrorReceived(headTooLarge: false) == .refuseAndClose(.badRequest))
    }

    @Test func aParserErrorDuringAnExchangeOnlyCloses() {
        var machine = Machine()
        _ = machine.connectionActivated()
        _ = machine.headReceived()
        #expect(machine.parserErrorReceived(headTooLarge: false) == .close)
    }

    @Test func anUpgradeTakesTheHandlerOutOfTheWay() {
        var machine = Machine()
        _ = machine.connectionActivated()
        _ = machine.headReceived()
        _ = machine.requestEndReceived()
        #expect(machine.responseHeadSent(status: 101) == .removeHandler)
        #expect(machine.state == .upgraded)
        #expect(machine.responseEndSent() == .none)
        #expect(machine.readCompleted() == .none)
        #expect(machine.timerFired(.head) == .none)
        #expect(machine.timerFired(.idle) == .none)
        #expect(machine.parserErrorReceived(headTooLarge: false) == .none)
    }

    @Test func closingCancelsTheTimerOnce() {
        var machine = Machine()
        _ = machine.connectionActivated()
        #expect(machine.connectionClosed() == .cancelTimer)
        #expect(machine.connectionClosed() == .none)
        #expect(machine.timerFired(.head) == .none)
    }
}
