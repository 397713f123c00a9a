import NIOCore
import NIOEmbedded
import Testing

@testable import SMTPClient

@Suite("SMTP pool bookkeeping")
struct SMTPPoolStateTests {
    static func idle(since: ContinuousClock.Instant, sent: Int = 1) throws -> SMTPPoolState.Idle {
        let channel = EmbeddedChannel()
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 25)).wait()
        let connection = SMTPConnection(
            channel: channel, capabilities: SMTPCapabilities(), isSecure: false, allows8Bit: false)
        return SMTPPoolState.Idle(connection: connection, messagesSent: sent, since: since)
    }

    @Test func opensUpToTheLimitThenReusesThenWaits() throws {
        var state = SMTPPoolState(maxConnections: 2)
        let now = ContinuousClock.now
        guard case .open = state.acquire(now: now, idleTimeout: .seconds(30)) else {
            Issue.record("open")
            return
        }
        guard case .open = state.acquire(now: now, idleTimeout: .seconds(30)) else {
            Issue.record("open")
            return
        }
        guard case .wait = state.acquire(now: now, idleTimeout: .seconds(30)) else {
            Issue.record("wait")
            return
        }
        let returned = state.returnIdle(try Self.idle(since: now))
        #expect(returned.accepted)
        guard case .reuse(let entry, let expired) = state.acquire(now: now, idleTimeout: .seconds(30)) else {
            Issue.record("reuse")
            return
        }
        #expect(entry.messagesSent == 1)
        #expect(expired.isEmpty)
        #expect(state.count == 2)
    }

    @Test func idleConnectionsExpireAndFreeTheirSlot() throws {
        var state = SMTPPoolState(maxConnections: 1)
        let now = ContinuousClock.now
        _ = state.acquire(now: now, idleTimeout: .seconds(30))
        _ = state.returnIdle(try Self.idle(since: now))
        guard case .open(let expired) = state.acquire(now: now + .seconds(31), idleTimeout: .seconds(30)) else {
            Issue.record("an expired connection is replaced by a new one")
            return
        }
        #expect(expired.count == 1)
        #expect(state.count == 1)
    }

    @Test func shutdownHandsBackIdleConnectionsAndRefusesReturns() throws {
        var state = SMTPPoolState(maxConnections: 2)
        let now = ContinuousClock.now
        _ = state.acquire(now: now, idleTimeout: .seconds(30))
        _ = state.acquire(now: now, idleTimeout: .seconds(30))
        _ = state.returnIdle(try Self.idle(since: now))
        let (idle, waiters) = state.shutdown()
        #expect(idle.count == 1)
        #expect(waiters.isEmpty)
        #expect(!state.returnIdle(try Self.idle(since: now)).accepted)
        #expect(state.count == 0)
        guard case .shutdown = state.acquire(now: now, idleTimeout: .seconds(30)) else {
            Issue.record("shutdown")
            return
        }
    }
}
