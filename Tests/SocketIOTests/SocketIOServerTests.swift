import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing

@testable import SocketIO

/// The server's own logic without I/O (no Redis: one instance): rooms on authentication,
/// `user_connected`, room emits and what the delegate hears, events and their acks, leaving rooms.
@Suite("Socket.IO server without I/O")
struct SocketIOServerTests {
    static let alice = "665f1c2e9b1d4a0012345678"
    static let bob = "665f1c2e9b1d4a0087654321"

    /// Records what the server tells its delegate; answers events with `["pong"]`.
    final class Delegate: SocketIOServerDelegate {
        let delivered = NIOLockedValueBox<[(event: String, sockets: Int)]>([])
        let authenticated = NIOLockedValueBox<[String]>([])
        let events = NIOLockedValueBox<[(String, [JSONValue])]>([])

        func socketAuthenticated(_ socket: SocketIOSocket, userID: String) async {
            self.authenticated.withLockedValue { $0.append(userID) }
        }

        func socket(_ socket: SocketIOSocket, userID: String, event: String, arguments: [JSONValue]) async
            -> [JSONValue]?
        {
            self.events.withLockedValue { $0.append((event, arguments)) }
            return [.string("pong")]
        }

        func roomEmitDelivered(_ emit: RoomEmit, sockets: Int) async {
            self.delivered.withLockedValue { $0.append((emit.event, sockets)) }
        }

        func roomEmitAcknowledged(_ emit: RoomEmit, userID: String, reply: [JSONValue]) async {}
    }

    /// Runs a server (heartbeats and its background work) around `body`.
    static func withServer(_ body: (SocketIOServer, Delegate) async throws -> Void) async throws {
        let server = SocketIOServer(
            configuration: SocketIOServerConfiguration(instanceID: "unit"),
            verifier: AccessTokenVerifier(secret: AccessTokenVerifierTests.secret),
            redis: nil,
            logger: Logger(label: "test.socket.io.server")
        )
        let delegate = Delegate()
        server.setDelegate(delegate)
        let running = Task { try await server.run() }
        defer { running.cancel() }
        try await body(server, delegate)
    }

    /// Opens a polling session for `userID` and authenticates it; returns the socket once the
    /// server answered `user_connected`.
    static func connect(_ server: SocketIOServer, userID: String) async throws -> SocketIOSocket {
        let socket = try #require(server.open(transport: .polling, authorizationHeader: nil))
        _ = await socket.poll()  // the Engine.IO open packet
        let token = AccessTokenVerifierTests.token(userID: userID)
        let (refusal, outcomes) = socket.post("40/notifications,{\"token\":\"\(token)\"}", byteCount: 10)
        #expect(refusal == nil)
        await server.process(outcomes, of: socket)
        // The CONNECT answer, then `user_connected` (sent by the server's background work).
        var texts: [String] = []
        while !texts.contains(where: { $0.contains("user_connected") }) {
            guard case .packets(let packets) = await socket.poll().0 else { break }
            texts += packets.compactMap { packet in
                if case .message(let text) = packet { return text }
                return nil
            }
        }
        #expect(texts.first == "0/notifications,{\"sid\":\"\(socket.id)\"}")
        #expect(texts.contains { $0.contains("\"userId\":\"\(userID)\"") })
        return socket
    }

    @Test func anAuthenticatedSocketJoinsItsUserRoomAndTheDelegateHearsOfIt() async throws {
        try await Self.withServer { server, delegate in
            let socket = try await Self.connect(server, userID: Self.alice)
            #expect(server.localSockets(ofUser: Self.alice).map(\.id) == [socket.id])
            #expect(server.localSockets(ofUser: Self.bob).isEmpty)
            #expect(await server.isUserConnected(Self.alice))
            #expect(!(await server.isUserConnected(Self.bob)))
            while delegate.authenticated.withLockedValue({ $0.isEmpty }) { await Task.yield() }
            #expect(delegate.authenticated.withLockedValue { $0 } == [Self.alice])
        }
    }

    @Test func aRoomEmitReachesOnlyThatUsersSocketsAndTheDelegateCountsThem() async throws {
        try await Self.withServer { server, delegate in
            let alice = try await Self.connect(server, userID: Self.alice)
            let bob = try await Self.connect(server, userID: Self.bob)
            async let received = alice.poll()
            let written = await server.emit(toUser: Self.alice, "news", [.object(["n": .number(1)])])
            #expect(written == 1)
            guard case .packets(let packets) = await received.0 else {
                Issue.record("alice got no packets")
                return
            }
            #expect(packets.count == 1)
            guard case .message(let text)? = packets.first else {
                Issue.record("not a message: \(packets)")
                return
            }
            #expect(text.hasPrefix("2/notifications,[\"news\",{\"n\":1"))
            #expect(delegate.delivered.withLockedValue { $0.map(\.event) } == ["news"])
            #expect(delegate.delivered.withLockedValue { $0.map(\.sockets) } == [1])
            #expect(server.localSockets(ofUser: Self.bob).map(\.id) == [bob.id])
            // Nobody in the room: nothing written, the delegate hears nothing more.
            #expect(await server.emit(toUser: "000000000000000000000000", "news", []) == 0)
            #expect(delegate.delivered.withLockedValue { $0.count } == 1)
        }
    }

    @Test func anEventGoesToTheDelegateAndItsAckCarriesTheReply() async throws {
        try await Self.withServer { server, delegate in
            let socket = try await Self.connect(server, userID: Self.alice)
            let (refusal, outcomes) = socket.post("42/notifications,7[\"ping\",{\"x\":1}]", byteCount: 10)
            #expect(refusal == nil)
            await server.process(outcomes, of: socket)
            #expect(delegate.events.withLockedValue { $0.map(\.0) } == ["ping"])
            guard case .packets(let packets) = await socket.poll().0 else {
                Issue.record("no ack")
                return
            }
            #expect(packets == [.message("3/notifications,7[\"pong\"]")])
        }
    }

    @Test func aClosedSocketLeavesItsRoom() async throws {
        try await Self.withServer { server, _ in
            let socket = try await Self.connect(server, userID: Self.alice)
            await server.process([.closed(reason: "transport close")], of: socket)
            #expect(server.localSockets(ofUser: Self.alice).isEmpty)
            #expect(server.localSocketCount == 0)
            #expect(!(await server.isUserConnected(Self.alice)))
        }
    }

    /// socket.io-client sends its next poll before it handles the last answer, so a poll often
    /// arrives just after the client's own `close` ended the session: it hears `close`, not 400.
    @Test func aPollForASessionThatJustEndedHearsCloseNotUnknownSession() async throws {
        try await Self.withServer { server, _ in
            let socket = try await Self.connect(server, userID: Self.alice)
            let (refusal, outcomes) = socket.post("1", byteCount: 1)
            #expect(refusal == nil)
            await server.process(outcomes, of: socket)
            #expect(server.socket(engineID: socket.engineID) == nil)
            #expect(await server.poll(sid: socket.engineID) == .packets([.close]))
            #expect(await socket.poll().0 == .packets([.close]))
            #expect(server.endedLately(socket.engineID))
            let unknown = SocketIOServer.randomID()
            #expect(await server.poll(sid: unknown) == nil)
            #expect(!server.endedLately(unknown))
        }
    }
}
