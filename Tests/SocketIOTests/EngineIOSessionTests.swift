import Testing

@testable import SocketIO

@Suite("Engine.IO session state machine")
struct EngineIOSessionTests {
    let handshake = EngineIOHandshake(sid: "sid-1", maxPayload: 100)

    @Test func firstPollGetsTheOpenPacketThenPollsPark() {
        var session = EngineIOSession(handshake: self.handshake)
        #expect(session.pollRequested() == .respondToPoll([.open(self.handshake)]))
        #expect(session.pollRequested() == .parkPoll)
        // Something to send releases the parked poll.
        #expect(
            session.send([#"0/notifications,{"sid":"x"}"#])
                == .respondToPoll([.message(#"0/notifications,{"sid":"x"}"#)]))
        #expect(session.send(["2[\"a\"]"]) == .none)
        #expect(session.pollRequested() == .respondToPoll([.message("2[\"a\"]")]))
    }

    @Test func overlappingPollsCloseTheSession() {
        var session = EngineIOSession(handshake: self.handshake)
        _ = session.pollRequested()
        #expect(session.pollRequested() == .parkPoll)
        #expect(session.pollRequested() == .close("overlapping polling requests"))
        #expect(session.state == .closed("overlapping polling requests"))
    }

    @Test func postsDeliverMessagesAndEnforceMaxPayload() {
        var session = EngineIOSession(handshake: self.handshake)
        let payload = EngineIOPacket.encodePayload([.message("0/notifications,"), .pong(""), .message("2[\"x\"]")])
        #expect(
            session.postReceived(payload, byteCount: payload.utf8.count) == .deliver(["0/notifications,", "2[\"x\"]"]))
        let big = String(repeating: "4", count: 101)
        #expect(session.postReceived(big, byteCount: 101) == .close("payload too large"))
    }

    @Test func pingsExpectPongsBeforeTheNextInterval() {
        var session = EngineIOSession(handshake: self.handshake)
        _ = session.pollRequested()
        _ = session.pollRequested()
        #expect(session.pingTimerFired() == .respondToPoll([.ping("")]))
        #expect(session.postReceived("3", byteCount: 1) == .none)
        _ = session.pollRequested()
        #expect(session.pingTimerFired() == .respondToPoll([.ping("")]))
        // No pong this time.
        #expect(session.pingTimerFired() == .close("ping timeout"))
    }

    @Test func upgradeProbesReleasesThePollAndMovesToWebSocket() {
        var session = EngineIOSession(handshake: self.handshake)
        _ = session.pollRequested()
        #expect(session.pollRequested() == .parkPoll)
        #expect(session.webSocketTextReceived("2probe") == .sendOnWebSocket([.pong("probe")]))
        #expect(session.state == .upgrading)
        // Until `upgrade`, packets still travel by polling.
        #expect(session.send(["2[\"during\"]"]) == .respondToPoll([.message("2[\"during\"]")]))
        #expect(session.pollRequested() == .parkPoll)
        #expect(session.send(["2[\"queued\"]"]) == .respondToPoll([.message("2[\"queued\"]")]))
        #expect(session.pollRequested() == .parkPoll)
        #expect(session.pingTimerFired() == .respondToPoll([.ping("")]))
        _ = session.send(["2[\"waiting\"]"])
        #expect(session.webSocketTextReceived("5") == .sendOnWebSocket([.message("2[\"waiting\"]")]))
        #expect(session.state == .open(.websocket))
        #expect(session.pendingForWebSocket() == .none)
        #expect(session.send(["2[\"after\"]"]) == .sendOnWebSocket([.message("2[\"after\"]")]))
        #expect(session.webSocketTextReceived("42[\"hi\"]") == .deliver(["2[\"hi\"]"]))
        #expect(session.pollRequested() == .badRequest("the session uses WebSocket"))
    }

    @Test func upgradeReleasesAParkedPollWithANoop() {
        var session = EngineIOSession(handshake: self.handshake)
        _ = session.pollRequested()
        #expect(session.webSocketTextReceived("2probe") == .sendOnWebSocket([.pong("probe")]))
        #expect(session.pollRequested() == .parkPoll)
        #expect(session.webSocketTextReceived("5") == .respondToPoll([.noop]))
        #expect(session.pendingForWebSocket() == .none)
        #expect(session.send(["2[\"x\"]"]) == .sendOnWebSocket([.message("2[\"x\"]")]))
    }

    @Test func probeOnlyWhilePolling() {
        var session = EngineIOSession(handshake: self.handshake, transport: .websocket)
        _ = session.webSocketOpened()
        #expect(session.webSocketTextReceived("2probe") == .none)
        var polling = EngineIOSession(handshake: self.handshake)
        _ = polling.pollRequested()
        #expect(polling.webSocketTextReceived("5") == .close("unexpected upgrade on the upgrade socket"))
    }

    @Test func webSocketFirstSessionsSendOpenAtOnce() {
        var session = EngineIOSession(handshake: self.handshake, transport: .websocket)
        #expect(session.webSocketOpened() == .sendOnWebSocket([.open(self.handshake)]))
        #expect(session.pingTimerFired() == .sendOnWebSocket([.ping("")]))
        #expect(session.webSocketTextReceived("3") == .none)
        #expect(session.webSocketTextReceived("1") == .close("client closed the session"))
        #expect(session.send(["2[\"late\"]"]) == .none)
    }

    @Test func malformedFramesCloseTheSession() {
        var session = EngineIOSession(handshake: self.handshake, transport: .websocket)
        _ = session.webSocketOpened()
        #expect(session.webSocketTextReceived("9") == .close("Engine.IO: unknown packet type '9'"))
    }
}
