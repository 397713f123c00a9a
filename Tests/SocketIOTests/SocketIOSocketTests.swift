import Foundation
import NIOCore
import Testing

@testable import SocketIO

/// One socket's transport handling without I/O: polling, emits, heartbeats and per-socket limits.
@Suite("Socket transport handling")
struct SocketIOSocketTests {
    static let userID = "665f1c2e9b1d4a0012345678"

    static func socket(
        _ configure: (inout SocketIOServerConfiguration) -> Void = { _ in },
        now: ContinuousClock.Instant = .now
    ) -> SocketIOSocket {
        var configuration = SocketIOServerConfiguration(namespace: "/notifications", instanceID: "unit")
        configure(&configuration)
        return SocketIOSocket(
            engineID: "engine-1",
            socketID: "socket-1",
            transport: .polling,
            authorizationHeader: nil,
            hooks: TestHooks(),
            configuration: configuration,
            now: now
        )
    }

    /// Opens the session and authenticates over polling; returns the CONNECT answer.
    static func authenticate(_ socket: SocketIOSocket) async throws -> [EngineIOPacket] {
        let (open, _) = await socket.poll()
        guard case .packets(let packets) = open, case .open? = packets.first else {
            Issue.record("expected the open packet, got \(open)")
            return []
        }
        let token = TestHooks.token()
        let (refusal, outcomes) = socket.post("40/notifications,{\"token\":\"\(token)\"}", byteCount: 10)
        #expect(refusal == nil)
        #expect(outcomes.count == 1)
        guard case .authenticated(let userID)? = outcomes.first else {
            Issue.record("not authenticated: \(outcomes)")
            return []
        }
        #expect(userID == Self.userID)
        let (answer, _) = await socket.poll()
        guard case .packets(let connect) = answer else { return [] }
        return connect
    }

    /// Returns once `socket` holds a parked poll (the poll runs in another task): a signal, not a delay.
    static func untilParked(_ socket: SocketIOSocket) async {
        while !socket.hasParkedPoll {
            await Task.yield()
        }
    }

    @Test func pollingHandshakeAndConnect() async throws {
        let socket = Self.socket()
        let connect = try await Self.authenticate(socket)
        #expect(connect == [.message("0/notifications,{\"sid\":\"socket-1\"}")])
        #expect(socket.userID == Self.userID)
    }

    @Test func anEmitReleasesAParkedPollAndReportsItWasHandedOver() async throws {
        let socket = Self.socket()
        _ = try await Self.authenticate(socket)
        async let parked = socket.poll()
        // The emit must find the poll parked (else it would wait for the next poll).
        await Self.untilParked(socket)
        let sent = await socket.emit("notification_received", [.string("x")])
        #expect(sent)
        let (result, _) = await parked
        #expect(result == .packets([.message("2/notifications,[\"notification_received\",\"x\"]")]))
    }

    /// A tab closed while its poll is parked: the poll's connection closes, the session ends at once
    /// (not at the ping timeout) and the parked poll is released; a poll answered already is not.
    @Test func anAbandonedParkedPollEndsTheSession() async throws {
        let socket = Self.socket()
        _ = try await Self.authenticate(socket)
        #expect(socket.pollAbandoned().isEmpty)  // nothing parked: nothing to end
        #expect(!socket.isClosed)
        async let parked = socket.poll()
        await Self.untilParked(socket)
        let outcomes = socket.pollAbandoned()
        guard case .closed(let reason)? = outcomes.first else {
            Issue.record("expected the session to close, got \(outcomes)")
            return
        }
        #expect(reason == "poll connection closed prematurely")
        #expect(await parked.0 == .packets([.close]))
        #expect(socket.isClosed)
    }

    @Test func aSilentClientIsClosedAfterThePingTimeout() async throws {
        let start = ContinuousClock.Instant.now
        let socket = Self.socket(
            {
                $0.pingInterval = .seconds(25)
                $0.pingTimeout = .seconds(20)
            }, now: start)
        _ = try await Self.authenticate(socket)
        #expect(socket.tick(now: start + .seconds(24)).isEmpty)
        #expect(socket.tick(now: start + .seconds(25)).isEmpty)  // the ping is queued
        let (ping, _) = await socket.poll()
        #expect(ping == .packets([.ping("")]))
        let outcomes = socket.tick(now: start + .seconds(45))
        guard case .closed(let reason)? = outcomes.first else {
            Issue.record("expected the session to close, got \(outcomes)")
            return
        }
        #expect(reason == "ping timeout")
        #expect(socket.isClosed)
        #expect(await socket.emit("late", []) == false)
    }

    @Test func aPongKeepsTheSessionAlive() async throws {
        let start = ContinuousClock.Instant.now
        let socket = Self.socket(
            {
                $0.pingInterval = .seconds(25)
                $0.pingTimeout = .seconds(20)
            }, now: start)
        _ = try await Self.authenticate(socket)
        _ = socket.tick(now: start + .seconds(25))
        _ = await socket.poll()
        _ = socket.post("3", byteCount: 1)
        #expect(socket.tick(now: start + .seconds(45)).isEmpty)
        #expect(!socket.isClosed)
    }

    @Test func eventsBeyondTheRateAreRefusedAndTheSocketStays() async throws {
        let start = ContinuousClock.Instant.now
        let socket = Self.socket(
            {
                $0.eventsPerSecond = 1
                $0.eventBurst = 2
            }, now: start)
        _ = try await Self.authenticate(socket)
        let event = "42/notifications,[\"mark_notification_read\",{}]"
        let (_, outcomes) = socket.post(
            [event, event, event].map { "4" + $0.dropFirst() }.joined(separator: "\u{1e}"), byteCount: 10, now: start)
        let events = outcomes.filter { if case .event = $0 { true } else { false } }
        #expect(events.count == 2)
        let (answer, _) = await socket.poll()
        guard case .packets(let packets) = answer, case .message(let text)? = packets.first else {
            Issue.record("expected the error event, got \(answer)")
            return
        }
        #expect(text.contains("\"RATE_LIMIT_EXCEEDED\""))
        #expect(!socket.isClosed)
    }

    @Test func oversizedEventsAreRefused() async throws {
        let socket = Self.socket { $0.maxEventBytes = 64 }
        _ = try await Self.authenticate(socket)
        let big = String(repeating: "a", count: 100)
        let (_, outcomes) = socket.post("42/notifications,[\"echo\",\"\(big)\"]", byteCount: 120)
        #expect(outcomes.isEmpty)
        let (answer, _) = await socket.poll()
        guard case .packets(let packets) = answer, case .message(let text)? = packets.first else {
            Issue.record("expected the error event, got \(answer)")
            return
        }
        #expect(text.contains("\"MESSAGE_TOO_LARGE\""))
    }

    @Test func closingReleasesTheParkedPollAndPendingAcks() async throws {
        let socket = Self.socket()
        _ = try await Self.authenticate(socket)
        // An emit asking for an ack, taken by a poll, never acknowledged.
        async let sent = socket.emit("notification_received", []) { _ in }
        _ = await socket.poll()
        #expect(await sent)
        async let parked = socket.poll()
        await Self.untilParked(socket)
        let outcomes = socket.close("server shutting down")
        let (result, _) = await parked
        #expect(result == .packets([.close]))
        #expect(outcomes.count == 2)  // closed, and the ack resolved with nil
        if case .acknowledged(_, let reply)? = outcomes.last {
            #expect(reply == nil)
        } else {
            Issue.record("expected the pending ack to resolve, got \(outcomes)")
        }
    }

    @Test func anUnansweredAckTimesOutAtTheHeartbeat() async throws {
        let socket = Self.socket { $0.ackTimeout = .seconds(10) }
        _ = try await Self.authenticate(socket)
        async let sent = socket.emit("notification_received", []) { _ in }
        _ = await socket.poll()
        #expect(await sent)
        #expect(socket.tick(now: .now + .seconds(5)).filter(Self.isAck).isEmpty)
        let expired = socket.tick(now: .now + .seconds(11)).filter(Self.isAck)
        #expect(expired.count == 1)
        if case .acknowledged(_, let reply)? = expired.first {
            #expect(reply == nil)
        }
    }

    @Test(.timeLimit(.minutes(1))) func emitWithAckReturnsTheClientsReply() async throws {
        let socket = Self.socket()
        _ = try await Self.authenticate(socket)
        async let reply = socket.emitWithAck("notification_received", [.string("x")])
        let (answer, _) = await socket.poll()
        #expect(answer == .packets([.message("2/notifications,0[\"notification_received\",\"x\"]")]))
        // The client's ack comes back; the server runs the handler the outcome carries.
        let (_, outcomes) = socket.post("43/notifications,0[{\"received\":true}]", byteCount: 30)
        for case .acknowledged(let handler, let arguments) in outcomes {
            await handler(arguments)
        }
        #expect(await reply == [.object(["received": .bool(true)])])
    }

    static func isAck(_ outcome: SocketIOSocket.Outcome) -> Bool {
        if case .acknowledged = outcome { return true }
        return false
    }

    @Test func busMessagesRoundTrip() throws {
        let message = BusMessage(
            origin: "gw-a",
            emit: RoomEmit(
                room: "user_1", event: "notification_received", arguments: [.string("x")], wantsAck: true,
                context: ["notification_id": "665f1c2e9b1d4a0012345678", "notification_type": "info"])
        )
        #expect(BusMessage(message.buffer) == message)
        // What the delegate is given back travels with the emit; a context that is not strings is refused.
        #expect(BusMessage(message.buffer)?.emit.context["notification_type"] == "info")
        #expect(
            BusMessage(.init(string: #"{"origin":"a","event":"e","arguments":[],"context":{"n":1}}"#)) == nil)
        #expect(BusMessage(.init(string: "{\"origin\":1}")) == nil)
    }

    @Test func corsEchoesAllowedOrigins() {
        var configuration = SocketIOServerConfiguration(instanceID: "unit")
        #expect(configuration.allowedOrigin("https://app.example") == "https://app.example")
        configuration.corsOrigins = ["https://decode.example"]
        #expect(configuration.allowedOrigin("https://app.example") == nil)
        #expect(configuration.allowedOrigin("https://decode.example") == "https://decode.example")
    }
}
