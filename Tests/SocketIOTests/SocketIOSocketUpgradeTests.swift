import Testing

@testable import SocketIO

/// The polling → WebSocket upgrade at the socket: what reaches the parked poll and the probe
/// socket, and which WebSocket's end counts.
@Suite("Socket upgrade handling")
struct SocketIOSocketUpgradeTests {
    /// Frames written to an attached WebSocket, read as they come.
    static func frames() -> (AsyncStream<SocketIOSocket.Frame>, AsyncStream<SocketIOSocket.Frame>.Continuation) {
        AsyncStream<SocketIOSocket.Frame>.makeStream()
    }

    @Test func probeAnswerReleasesTheParkedPollWithANoopThenUpgradeMovesTheQueue() async throws {
        let socket = SocketIOSocketTests.socket()
        _ = try await SocketIOSocketTests.authenticate(socket)
        async let parked = socket.poll()
        await SocketIOSocketTests.untilParked(socket)
        let (stream, continuation) = Self.frames()
        let (generation, _) = socket.attachWebSocket(continuation, upgrade: true)
        #expect(generation == 1)
        // Still parked: the client has not probed yet.
        #expect(socket.hasParkedPoll)
        _ = socket.webSocketText("2probe")
        let (released, _) = await parked
        #expect(released == .packets([.noop]))
        var iterator = stream.makeAsyncIterator()
        let probeAnswer = await iterator.next()
        #expect(probeAnswer?.text == "3probe")
        // Sent while the client pauses polling: it waits for the WebSocket.
        async let sent = socket.emit("notification_received", [.string("x")])
        _ = socket.webSocketText("5")
        let moved = await iterator.next()
        #expect(moved?.text == "42/notifications,[\"notification_received\",\"x\"]")
        // The WebSocket writer's part: the frame left.
        for waiter in moved?.written ?? [] { waiter.resume(returning: true) }
        #expect(await sent)
        #expect(!socket.acceptsUpgrade)
    }

    @Test func aSecondProbeSocketIsRefusedAndItsEndChangesNothing() async throws {
        let socket = SocketIOSocketTests.socket()
        _ = try await SocketIOSocketTests.authenticate(socket)
        let (_, first) = Self.frames()
        let (firstGeneration, _) = socket.attachWebSocket(first, upgrade: true)
        let (_, second) = Self.frames()
        let (secondGeneration, _) = socket.attachWebSocket(second, upgrade: true)
        #expect(firstGeneration == 1)
        #expect(secondGeneration == nil)
        // The refused socket's end is not the probe socket's.
        #expect(socket.webSocketClosed(2, reason: "transport close").isEmpty)
        _ = socket.webSocketText("2probe")
        #expect(!socket.isClosed)
    }

    @Test func probeSocketClosedAfterTheProbeEndsTheSessionAtOnce() async throws {
        let socket = SocketIOSocketTests.socket()
        _ = try await SocketIOSocketTests.authenticate(socket)
        let (_, continuation) = Self.frames()
        let (generation, _) = socket.attachWebSocket(continuation, upgrade: true)
        _ = socket.webSocketText("2probe")
        let outcomes = socket.webSocketClosed(try #require(generation), reason: "transport close")
        guard case .closed(let reason)? = outcomes.first else {
            Issue.record("not closed: \(outcomes)")
            return
        }
        #expect(reason == "transport close")
        #expect(socket.closeReason == "transport close")
    }

    @Test func aProbeSocketThatNeverProbesIsClosedAtTheUpgradeTimeout() async throws {
        let socket = SocketIOSocketTests.socket()
        _ = try await SocketIOSocketTests.authenticate(socket)
        let (stream, continuation) = Self.frames()
        _ = socket.attachWebSocket(continuation, upgrade: true)
        #expect(socket.tick(now: .now + .seconds(5)).isEmpty)
        #expect(!socket.acceptsUpgrade)
        _ = socket.tick(now: .now + SocketIOSocket.upgradeTimeout + .seconds(1))
        // The probe socket's frames end (its writer closes it); the session polls on.
        for await _ in stream {}
        #expect(!socket.isClosed)
        #expect(socket.acceptsUpgrade)
    }

    @Test func aPostCarryingTheClientsCloseSucceeds() async throws {
        let socket = SocketIOSocketTests.socket()
        _ = try await SocketIOSocketTests.authenticate(socket)
        let (refusal, outcomes) = socket.post("1", byteCount: 1)
        #expect(refusal == nil)
        #expect(socket.closeReason == EngineIOSession.clientClosed)
        guard case .closed? = outcomes.first else {
            Issue.record("not closed: \(outcomes)")
            return
        }
        // A broken payload is still refused.
        let other = SocketIOSocketTests.socket()
        _ = try await SocketIOSocketTests.authenticate(other)
        #expect(other.post("9", byteCount: 1).0 != nil)
    }

    @Test func probeSocketClosedBeforeTheProbeLeavesPollingAlone() async throws {
        let socket = SocketIOSocketTests.socket()
        _ = try await SocketIOSocketTests.authenticate(socket)
        let (_, continuation) = Self.frames()
        let (generation, _) = socket.attachWebSocket(continuation, upgrade: true)
        #expect(socket.webSocketClosed(try #require(generation), reason: "transport close").isEmpty)
        #expect(!socket.isClosed)
        #expect(socket.acceptsUpgrade)
    }
}
