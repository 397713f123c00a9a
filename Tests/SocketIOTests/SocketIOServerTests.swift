import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing

@testable import SocketIO

/// The server's own logic without I/O (no Redis: one instance): the authentication and connection
/// hooks (``TestHooks``: refusals, a room joined on connect, a welcome event), room emits and what
/// the delegate hears, events and their acks, leaving rooms, the delegate's lifecycle events.
@Suite("Socket.IO server without I/O")
struct SocketIOServerTests {
    static let alice = "665f1c2e9b1d4a0012345678"
    static let bob = "665f1c2e9b1d4a0087654321"

    /// Records what the server tells its delegate; answers events with `["pong"]`.
    final class Delegate: SocketIOServerDelegate {
        let delivered = NIOLockedValueBox<[(event: String, sockets: Int)]>([])
        let authenticated = NIOLockedValueBox<[String]>([])
        let closed = NIOLockedValueBox<[(userID: String, reason: String)]>([])
        let events = NIOLockedValueBox<[(String, [JSONValue])]>([])

        func socketAuthenticated(_ socket: SocketIOSocket, userID: String) async {
            self.authenticated.withLockedValue { $0.append(userID) }
        }

        func socketClosed(_ socket: SocketIOSocket, userID: String, reason: String) async {
            self.closed.withLockedValue { $0.append((userID, reason)) }
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
    static func withServer(
        hooks: TestHooks = TestHooks(), _ body: (SocketIOServer, Delegate) async throws -> Void
    ) async throws {
        let server = SocketIOServer(
            configuration: SocketIOServerConfiguration(namespace: "/notifications", instanceID: "unit"),
            hooks: hooks,
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
    /// connection hook's `welcome` arrived.
    static func connect(_ server: SocketIOServer, userID: String) async throws -> SocketIOSocket {
        let socket = try #require(server.open(transport: .polling, authorizationHeader: nil))
        _ = await socket.poll()  // the Engine.IO open packet
        let token = TestHooks.token(userID: userID)
        let (refusal, outcomes) = socket.post("40/notifications,{\"token\":\"\(token)\"}", byteCount: 10)
        #expect(refusal == nil)
        await server.process(outcomes, of: socket)
        // The CONNECT answer, then `welcome` (sent by the connection hook in the server's background work).
        var texts: [String] = []
        while !texts.contains(where: { $0.contains("welcome") }) {
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
            #expect(server.localSockets(inRoom: TestHooks.room(Self.alice)).map(\.id) == [socket.id])
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
            let written = await server.emit(to: TestHooks.room(Self.alice), "news", [.object(["n": .number(1)])])
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
            #expect(await server.emit(to: TestHooks.room("000000000000000000000000"), "news", []) == 0)
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

    /// The polling answers until one holds a DISCONNECT (or nothing more comes), as texts.
    static func pollUntilDisconnect(_ socket: SocketIOSocket) async -> [String] {
        var texts: [String] = []
        while !texts.contains(where: { $0.hasPrefix("1") }) {
            guard case .packets(let packets) = await socket.poll().0, packets != [.close] else { break }
            texts += packets.compactMap { packet in
                if case .message(let text) = packet { return text }
                return nil
            }
        }
        return texts
    }

    @Test func theAuthenticationHookRefusingSendsItsErrorThenDisconnects() async throws {
        let hooks = TestHooks()
        try await Self.withServer(hooks: hooks) { server, delegate in
            let socket = try #require(server.open(transport: .polling, authorizationHeader: nil))
            _ = await socket.poll()
            let (refusal, outcomes) = socket.post(#"40/notifications,{"token":"stolen"}"#, byteCount: 10)
            #expect(refusal == nil)
            #expect(outcomes.isEmpty)
            await server.process(outcomes, of: socket)
            #expect(
                await Self.pollUntilDisconnect(socket) == [
                    #"0/notifications,{"sid":"\#(socket.id)"}"#,
                    #"2/notifications,["error",{"code":"BAD_CREDENTIALS","message":"Unknown key"}]"#,
                    "1/notifications,",
                ])
            #expect(socket.userID == nil)
            #expect(server.localSockets(inRoom: nil).isEmpty)
            #expect(hooks.calls.withLockedValue { $0 }.isEmpty)
            #expect(delegate.authenticated.withLockedValue { $0 }.isEmpty)
        }
    }

    @Test func theConnectionHookRefusingEndsTheSocketBeforeItJoinsAnything() async throws {
        let hooks = TestHooks(refusedAtAdmit: [Self.bob])
        try await Self.withServer(hooks: hooks) { server, delegate in
            let socket = try #require(server.open(transport: .polling, authorizationHeader: "Bearer key-\(Self.bob)"))
            _ = await socket.poll()
            let (_, outcomes) = socket.post("40/notifications,", byteCount: 10)
            #expect(outcomes.count == 1)
            guard case .packets(let connect) = await socket.poll().0 else {
                Issue.record("no CONNECT answer")
                return
            }
            #expect(connect == [.message(#"0/notifications,{"sid":"\#(socket.id)"}"#)])
            // The refusal comes from the server's background work: a poll waits for it.
            async let rest = Self.pollUntilDisconnect(socket)
            while !socket.hasParkedPoll { await Task.yield() }
            await server.process(outcomes, of: socket)
            #expect(
                await rest == [
                    #"2/notifications,["error",{"code":"BANNED","message":"Not admitted"}]"#, "1/notifications,",
                ])
            #expect(socket.closeReason == "session refused")
            #expect(hooks.calls.withLockedValue { $0 } == ["authenticate \(Self.bob)", "admit \(Self.bob)"])
            #expect(server.localSockets(ofUser: Self.bob).isEmpty)
            #expect(server.localSockets(inRoom: TestHooks.room(Self.bob)).isEmpty)
            #expect(server.localSocketCount == 0)
            #expect(delegate.authenticated.withLockedValue { $0 }.isEmpty)
            #expect(delegate.closed.withLockedValue { $0 }.isEmpty)
        }
    }

    @Test func theHooksRunInOrderThenTheDelegateHearsOfTheSocket() async throws {
        let hooks = TestHooks()
        try await Self.withServer(hooks: hooks) { server, delegate in
            let socket = try await Self.connect(server, userID: Self.alice)
            while delegate.authenticated.withLockedValue({ $0.isEmpty }) { await Task.yield() }
            #expect(
                hooks.calls.withLockedValue { $0 } == [
                    "authenticate \(Self.alice)", "admit \(Self.alice)", "connected \(Self.alice)",
                ])
            #expect(socket.credential == TestHooks.token(userID: Self.alice))
            // A room the application joins later works as the connection hook's.
            server.join(socket, room: "team")
            #expect(server.localSockets(inRoom: "team").map(\.id) == [socket.id])
            server.leave(socket, room: "team")
            #expect(server.localSockets(inRoom: "team").isEmpty)
            #expect(await server.emit(to: "team", "news", []) == 0)
        }
    }

    @Test func aClosedSocketLeavesEveryRoomAndTheDelegateHearsWhy() async throws {
        try await Self.withServer { server, delegate in
            let first = try await Self.connect(server, userID: Self.alice)
            let second = try await Self.connect(server, userID: Self.alice)
            server.join(first, room: "team")
            #expect(Set(server.localSockets(ofUser: Self.alice).map(\.id)) == [first.id, second.id])
            await server.process(first.close("transport close"), of: first)
            #expect(!(await first.emit("late", [])))
            #expect(server.localSockets(inRoom: "team").isEmpty)
            #expect(server.localSockets(inRoom: TestHooks.room(Self.alice)).map(\.id) == [second.id])
            #expect(server.localSockets(ofUser: Self.alice).map(\.id) == [second.id])
            #expect(await server.isUserConnected(Self.alice))
            #expect(delegate.closed.withLockedValue { $0.map(\.userID) } == [Self.alice])
            #expect(delegate.closed.withLockedValue { $0.map(\.reason) } == ["transport close"])
            await server.process(second.close("ping timeout"), of: second)
            #expect(!(await server.isUserConnected(Self.alice)))
            #expect(delegate.closed.withLockedValue { $0.map(\.reason) } == ["transport close", "ping timeout"])
        }
    }

    @Test func theDefaultConfigurationUsesTheDefaultNamespaceAndItsOwnBusChannel() {
        let configuration = SocketIOServerConfiguration(instanceID: "unit")
        #expect(configuration.namespace == "/")
        #expect(configuration.channel == "socket.io:/")
        #expect(SocketIOServerConfiguration(namespace: "/chat", instanceID: "u").channel == "socket.io:/chat")
        #expect(SocketIOServerConfiguration(instanceID: "u", busChannel: "elsewhere").channel == "elsewhere")
    }
}
