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

    @Test func handshakeAdvertisesWebSocketOnlyToPollingSessions() {
        let polling = EngineIOSession(handshake: self.handshake, transport: .polling)
        let webSocket = EngineIOSession(handshake: self.handshake, transport: .websocket)
        #expect(polling.handshake.upgrades == ["websocket"])
        #expect(webSocket.handshake.upgrades == [])
        #expect(EngineIOPacket.open(webSocket.handshake).text.contains(#""upgrades":[]"#))
        #expect(!webSocket.acceptsUpgrade)
        #expect(polling.acceptsUpgrade)
    }

    @Test func probeAnswerReleasesTheParkedPollWithANoop() {
        var session = EngineIOSession(handshake: self.handshake)
        _ = session.pollRequested()
        #expect(session.pollRequested() == .parkPoll)
        #expect(session.upgradeSocketOpened() == .none)
        #expect(session.state == .upgrading(.awaitingProbe))
        // The poll stays parked until the probe: the client has not decided to upgrade yet.
        #expect(session.webSocketTextReceived("2probe") == .answerProbe(releasingPoll: [.noop]))
        #expect(session.state == .upgrading(.answered))
        // The client pauses polling; what is sent meanwhile waits for the WebSocket.
        #expect(session.send(["2[\"waiting\"]"]) == .none)
        #expect(session.webSocketTextReceived("5") == .sendOnWebSocket([.message("2[\"waiting\"]")]))
        #expect(session.state == .open(.websocket))
        #expect(session.pendingForWebSocket() == .none)
        #expect(session.send(["2[\"after\"]"]) == .sendOnWebSocket([.message("2[\"after\"]")]))
        #expect(session.webSocketTextReceived("42[\"hi\"]") == .deliver(["2[\"hi\"]"]))
        #expect(session.pollRequested() == .badRequest("the session uses WebSocket"))
        #expect(session.postReceived("3", byteCount: 1) == .badRequest("the session uses WebSocket"))
    }

    @Test func probeWithNoParkedPollReleasesNothingAndLaterPollsAreNotHeld() {
        var session = EngineIOSession(handshake: self.handshake)
        _ = session.pollRequested()
        #expect(session.upgradeSocketOpened() == .none)
        // Until the probe, polling goes on as before.
        #expect(session.send(["2[\"during\"]"]) == .none)
        #expect(session.pollRequested() == .respondToPoll([.message("2[\"during\"]")]))
        #expect(session.webSocketTextReceived("2probe") == .answerProbe(releasingPoll: nil))
        // A poll that arrives after the probe answer is answered at once (a noop, or what queued).
        #expect(session.pollRequested() == .respondToPoll([.noop]))
        _ = session.send(["2[\"queued\"]"])
        #expect(session.pollRequested() == .respondToPoll([.message("2[\"queued\"]")]))
        #expect(session.webSocketTextReceived("5") == .none)
        #expect(session.state == .open(.websocket))
    }

    @Test func secondProbeSocketIsRefusedAndTheSessionKeepsItsUpgrade() {
        var session = EngineIOSession(handshake: self.handshake)
        _ = session.pollRequested()
        #expect(session.upgradeSocketOpened() == .none)
        #expect(session.upgradeSocketOpened() == .closeUpgradeSocket("an upgrade is already under way"))
        #expect(session.state == .upgrading(.awaitingProbe))
        _ = session.webSocketTextReceived("2probe")
        #expect(session.upgradeSocketOpened() == .closeUpgradeSocket("an upgrade is already under way"))
        _ = session.webSocketTextReceived("5")
        #expect(session.upgradeSocketOpened() == .closeUpgradeSocket("the session already uses WebSocket"))
        #expect(session.state == .open(.websocket))
        _ = session.transportClosed("gone")
        #expect(session.upgradeSocketOpened() == .closeUpgradeSocket("gone"))
    }

    @Test func probeSocketClosedBeforeTheProbeLeavesTheSessionPolling() {
        var session = EngineIOSession(handshake: self.handshake)
        _ = session.pollRequested()
        #expect(session.pollRequested() == .parkPoll)
        _ = session.upgradeSocketOpened()
        #expect(session.webSocketClosed("transport close") == .none)
        #expect(session.state == .open(.polling))
        #expect(session.send(["2[\"x\"]"]) == .respondToPoll([.message("2[\"x\"]")]))
        // And a new upgrade may start.
        #expect(session.upgradeSocketOpened() == .none)
    }

    @Test func probeSocketClosedAfterTheProbeAnswerEndsTheSession() {
        // The client paused polling on `3probe`: with its WebSocket gone it has no transport, so
        // the session (and the user's presence with it) ends now, not at the ping timeout.
        var session = EngineIOSession(handshake: self.handshake)
        _ = session.pollRequested()
        _ = session.pollRequested()
        _ = session.upgradeSocketOpened()
        _ = session.webSocketTextReceived("2probe")
        #expect(session.webSocketClosed("transport close") == .close("transport close"))
        #expect(session.state == .closed("transport close"))
        #expect(session.pollRequested() == .close("transport close"))
    }

    @Test func webSocketClosedEndsAnUpgradedSessionAndIsIgnoredWhenStale() {
        var session = EngineIOSession(handshake: self.handshake, transport: .websocket)
        _ = session.webSocketOpened()
        #expect(session.webSocketClosed("transport error") == .close("transport error"))
        #expect(session.webSocketClosed("again") == .none)
        var polling = EngineIOSession(handshake: self.handshake)
        #expect(polling.webSocketClosed("stale") == .none)
        #expect(polling.state == .open(.polling))
    }

    @Test func unexpectedPacketsOnTheUpgradeSocket() {
        // Before the probe: only that socket is closed, polling goes on.
        var session = EngineIOSession(handshake: self.handshake)
        _ = session.pollRequested()
        _ = session.upgradeSocketOpened()
        #expect(session.webSocketTextReceived("5") == .closeUpgradeSocket("unexpected upgrade before the probe"))
        #expect(session.state == .open(.polling))
        // With no upgrade socket at all.
        #expect(session.webSocketTextReceived("2probe") == .closeUpgradeSocket("no upgrade under way"))
        // After the probe answer: polling is paused, so the session ends.
        _ = session.upgradeSocketOpened()
        _ = session.webSocketTextReceived("2probe")
        #expect(
            session.webSocketTextReceived("42[\"x\"]")
                == .close(#"unexpected message("2[\"x\"]") on the upgrade socket"#))
    }

    @Test func closeDuringTheUpgradeEndsTheSessionAndItsUpgradeSocket() {
        var session = EngineIOSession(handshake: self.handshake)
        _ = session.pollRequested()
        _ = session.upgradeSocketOpened()
        _ = session.webSocketTextReceived("2probe")
        #expect(session.postReceived("1", byteCount: 1) == .close("client closed the session"))
        #expect(session.webSocketTextReceived("5") == .close("client closed the session"))
        #expect(session.webSocketClosed("transport close") == .none)
    }

    @Test func postInFlightDuringTheUpgradeIsStillDelivered() {
        // The client waits for its POST to drain before sending `upgrade`: the POST lands while
        // the session is upgrading and its packets count.
        var session = EngineIOSession(handshake: self.handshake)
        _ = session.pollRequested()
        #expect(session.pollRequested() == .parkPoll)
        _ = session.upgradeSocketOpened()
        #expect(session.webSocketTextReceived("2probe") == .answerProbe(releasingPoll: [.noop]))
        #expect(session.postReceived("42[\"late\"]", byteCount: 10) == .deliver(["2[\"late\"]"]))
        #expect(session.webSocketTextReceived("5") == .none)
    }

    @Test func pingsDuringTheUpgradeStillNeedPongs() {
        var session = EngineIOSession(handshake: self.handshake)
        _ = session.pollRequested()
        _ = session.upgradeSocketOpened()
        _ = session.webSocketTextReceived("2probe")
        #expect(session.pingTimerFired() == .none)
        #expect(session.webSocketTextReceived("5") == .sendOnWebSocket([.ping("")]))
        #expect(session.webSocketTextReceived("3") == .none)
        #expect(!session.awaitingPong)
        _ = session.pingTimerFired()
        #expect(session.pingTimerFired() == .close("ping timeout"))
    }

    @Test func anUpgradeThatDoesNotCompleteTimesOut() {
        var session = EngineIOSession(handshake: self.handshake)
        _ = session.pollRequested()
        _ = session.upgradeSocketOpened()
        // A probe socket that never probes is closed; polling goes on and may upgrade later.
        #expect(session.upgradeTimerFired() == .closeUpgradeSocket("upgrade timeout"))
        #expect(session.state == .open(.polling))
        #expect(session.upgradeSocketOpened() == .none)
        // Probed but no `upgrade`: the client paused polling, so the session ends.
        _ = session.webSocketTextReceived("2probe")
        #expect(session.upgradeTimerFired() == .close("upgrade timeout"))
        // Once upgraded, the timer means nothing.
        var upgraded = EngineIOSession(handshake: self.handshake)
        _ = upgraded.pollRequested()
        _ = upgraded.upgradeSocketOpened()
        _ = upgraded.webSocketTextReceived("2probe")
        _ = upgraded.webSocketTextReceived("5")
        #expect(upgraded.upgradeTimerFired() == .none)
        #expect(upgraded.state == .open(.websocket))
    }

    @Test func probeOnlyWhilePolling() {
        var session = EngineIOSession(handshake: self.handshake, transport: .websocket)
        _ = session.webSocketOpened()
        #expect(session.webSocketTextReceived("2probe") == .none)
    }

    @Test func webSocketFirstSessionsSendOpenAtOnce() {
        var session = EngineIOSession(handshake: self.handshake, transport: .websocket)
        #expect(session.webSocketOpened() == .sendOnWebSocket([.open(session.handshake)]))
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
