import Testing

@testable import BoltClient

@Suite struct BoltConnectionStateMachineTests {
    private func ready(_ version: BoltVersion = BoltVersion(4, 4)) -> BoltConnectionStateMachine {
        var machine = BoltConnectionStateMachine()
        _ = machine.versionReceived(version)
        _ = machine.requestSent(.hello)
        _ = machine.successReceived(["server": "Neo4j/5"])
        if version.usesLogon {
            _ = machine.requestSent(.logon)
            _ = machine.successReceived([:])
        }
        return machine
    }

    @Test func bolt44LogsInWithHelloAlone() {
        var machine = BoltConnectionStateMachine()
        #expect(machine.versionReceived(BoltVersion(4, 4)) == .none)
        #expect(machine.state == .connected(BoltVersion(4, 4)))
        #expect(machine.requestSent(.hello) == .send)
        #expect(machine.successReceived(["server": "x"]) == .succeedRequest(["server": "x"]))
        #expect(machine.state == .ready(BoltVersion(4, 4)))
    }

    @Test func bolt51NeedsLogonAfterHello() {
        var machine = BoltConnectionStateMachine()
        _ = machine.versionReceived(BoltVersion(5, 4))
        _ = machine.requestSent(.hello)
        _ = machine.successReceived([:])
        #expect(machine.state == .authentication(BoltVersion(5, 4)))
        _ = machine.requestSent(.logon)
        _ = machine.successReceived([:])
        #expect(machine.state == .ready(BoltVersion(5, 4)))
        #expect(machine.isIdle)
    }

    @Test func refusesAVersionThatWasNotOffered() {
        var machine = BoltConnectionStateMachine()
        guard case .closeConnection(let error) = machine.versionReceived(BoltVersion(0, 0)) else {
            Issue.record("expected a close")
            return
        }
        #expect(error.kind == .unsupportedVersion)
        #expect(machine.requestSent(.hello) == .refuse(BoltError(.connectionClosed, "the connection is closed")))
    }

    @Test func failedLoginClosesTheConnection() {
        var machine = BoltConnectionStateMachine()
        _ = machine.versionReceived(BoltVersion(4, 4))
        _ = machine.requestSent(.hello)
        let action = machine.failureReceived(["code": "Neo.ClientError.Security.Unauthorized", "message": "no"])
        #expect(
            action
                == .closeConnection(
                    BoltError(.authenticationFailed, code: "Neo.ClientError.Security.Unauthorized", "no")))
        #expect(machine.state == .defunct)
    }

    @Test func runAndPullStreamRecordsThenReturnToReady() {
        var machine = self.ready()
        _ = machine.requestSent(.run)
        _ = machine.requestSent(.pull)
        #expect(machine.successReceived(["fields": ["x"]]) == .succeedRequest(["fields": ["x"]]))
        #expect(machine.state == .streaming(BoltVersion(4, 4)))
        #expect(machine.recordReceived([1]) == .deliverRecord([1]))
        #expect(machine.successReceived(["has_more": true]) == .succeedRequest(["has_more": true]))
        #expect(machine.state == .streaming(BoltVersion(4, 4)))
        _ = machine.requestSent(.pull)
        _ = machine.successReceived(["type": "r"])
        #expect(machine.state == .ready(BoltVersion(4, 4)))
    }

    @Test func transactionMovesThroughTxStates() {
        var machine = self.ready(BoltVersion(5, 4))
        let version = BoltVersion(5, 4)
        _ = machine.requestSent(.begin)
        _ = machine.successReceived([:])
        #expect(machine.state == .txReady(version))
        #expect(!machine.isIdle)
        _ = machine.requestSent(.run)
        _ = machine.requestSent(.pull)
        _ = machine.successReceived([:])
        #expect(machine.state == .txStreaming(version))
        _ = machine.successReceived([:])
        #expect(machine.state == .txReady(version))
        _ = machine.requestSent(.commit)
        _ = machine.successReceived(["bookmark": "b"])
        #expect(machine.state == .ready(version))
    }

    @Test func failureIgnoresTheRestOfThePipelineThenResets() {
        var machine = self.ready()
        _ = machine.requestSent(.run)
        _ = machine.requestSent(.pull)
        let failure: [String: BoltValue] = ["code": "Neo.ClientError.Statement.SyntaxError", "message": "oops"]
        #expect(
            machine.failureReceived(failure)
                == .failRequest(
                    BoltError(.server, code: "Neo.ClientError.Statement.SyntaxError", "oops"), sendReset: false))
        guard case .failRequest(let ignored, sendReset: true) = machine.ignoredReceived() else {
            Issue.record("the last IGNORED should ask for a RESET")
            return
        }
        #expect(ignored.kind == .ignored)
        #expect(machine.state == .failed(BoltVersion(4, 4)))
        #expect(machine.pending.count == 1)
        #expect(machine.successReceived([:]) == .internalResetCompleted)
        #expect(machine.state == .ready(BoltVersion(4, 4)))
        #expect(machine.isIdle)
    }

    @Test func failureWithNothingPendingResetsAtOnce() {
        var machine = self.ready()
        _ = machine.requestSent(.begin)
        guard case .failRequest(_, sendReset: true) = machine.failureReceived(["code": "Neo.TransientError.General.X"])
        else {
            Issue.record("expected a RESET")
            return
        }
        // A request the caller sends after the failure is answered after the RESET.
        _ = machine.requestSent(.run)
        #expect(machine.successReceived([:]) == .internalResetCompleted)
        #expect(machine.successReceived(["fields": []]) == .succeedRequest(["fields": []]))
        #expect(machine.state == .streaming(BoltVersion(4, 4)))
    }

    @Test func protocolViolationsClose() {
        var machine = self.ready()
        guard case .closeConnection(let error) = machine.recordReceived([1]) else {
            Issue.record("a RECORD without PULL must close")
            return
        }
        #expect(error.kind == .protocolViolation)
        var other = self.ready()
        guard case .closeConnection = other.successReceived([:]) else {
            Issue.record("a SUCCESS without a request must close")
            return
        }
        var third = self.ready()
        _ = third.requestSent(.commit)
        guard case .closeConnection = third.successReceived([:]) else {
            Issue.record("COMMIT outside a transaction cannot succeed")
            return
        }
    }

    @Test func goodbyeMakesTheConnectionDefunct() {
        var machine = self.ready()
        #expect(machine.requestSent(.goodbye) == .send)
        #expect(machine.state == .defunct)
        #expect(machine.pending.isEmpty)
    }
}
