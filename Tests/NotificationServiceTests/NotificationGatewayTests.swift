import Foundation
import Logging
import Testing

@testable import NotificationService
@testable import SocketIO

/// The gateway as the original serves it (COMPAT.md 3.4, 3.5), on the Socket.IO library: the
/// namespace, the access token at CONNECT, `user_connected`, the `error` envelope, rooms and keys.
@Suite("Notification gateway")
struct NotificationGatewayTests {
    let now = Date(timeIntervalSince1970: 1_700_000_000)

    func session(header: String? = nil) -> SocketIONamespaceSession {
        SocketIONamespaceSession(
            namespace: NotificationGateway.namespace,
            socketID: "sock-1",
            hooks: NotificationGatewayHooks(verifier: AccessTokenVerifier(secret: AccessTokenVerifierTests.secret)),
            authorizationHeader: header
        )
    }

    @Test func validTokenInTheAuthPayloadAuthenticates() {
        var session = self.session()
        let token = AccessTokenVerifierTests.token()
        let (send, outcome) = session.received(#"0/notifications,{"token":"\#(token)"}"#)
        #expect(send == [#"0/notifications,{"sid":"sock-1"}"#])
        #expect(outcome == .authenticated(userID: "665f1c2e9b1d4a0012345678"))
        #expect(session.credential == token)
        let userConnected = SocketIOPacket.event(
            NotificationGateway.connectedEvent,
            [
                NotificationGateway.connectedPayload(
                    userID: "665f1c2e9b1d4a0012345678", socketID: "sock-1", now: self.now)
            ],
            namespace: NotificationGateway.namespace)
        #expect(
            userConnected.text
                == #"2/notifications,["user_connected",{"event":"user_connected","data":{"userId":"665f1c2e9b1d4a0012345678","socketId":"sock-1"},"timestamp":"2023-11-14T22:13:20.000Z"}]"#
        )
    }

    @Test func headerTokenWinsOverTheAuthPayload() {
        var session = self.session(header: "Bearer \(AccessTokenVerifierTests.token())")
        #expect(
            session.received(#"0/notifications,{"token":"garbage"}"#).outcome
                == .authenticated(userID: "665f1c2e9b1d4a0012345678"))
    }

    @Test func refusedTokensConnectThenGetErrorAndDisconnect() {
        let cases: [(String, String, String)] = [
            (#"0/notifications,"#, "AUTHENTICATION_REQUIRED", "Authentication token is required"),
            (#"0/notifications,{"token":"bad"}"#, "INVALID_TOKEN", "Invalid authentication token"),
            (
                #"0/notifications,{"token":"\#(AccessTokenVerifierTests.token(userID: nil))"}"#, "INVALID_TOKEN",
                "No user ID in token"
            ),
        ]
        for (connect, code, message) in cases {
            var session = self.session()
            let (send, outcome) = session.received(connect, now: self.now)
            #expect(outcome == .disconnected)
            #expect(
                send == [
                    #"0/notifications,{"sid":"sock-1"}"#,
                    #"2/notifications,["error",{"event":"error","error":{"code":"\#(code)","message":"\#(message)","timestamp":"2023-11-14T22:13:20.000Z"}}]"#,
                    "1/notifications,",
                ]
            )
            #expect(session.state == .disconnected)
        }
    }

    @Test func eventsBeforeAuthenticationGetNotAuthenticatedInTheOriginalsEnvelope() {
        var session = self.session()
        let (send, outcome) = session.received(#"2/notifications,["mark_notification_read",{}]"#, now: self.now)
        #expect(outcome == .none)
        #expect(
            send == [
                #"2/notifications,["error",{"event":"error","error":{"code":"NOT_AUTHENTICATED","message":"User not authenticated","timestamp":"2023-11-14T22:13:20.000Z"}}]"#
            ])
    }

    @Test func namesKeysAndChannelAreTheOriginals() {
        #expect(NotificationGateway.room(ofUser: "665f1c2e9b1d4a0012345678") == "user_665f1c2e9b1d4a0012345678")
        #expect(
            NotificationGateway.presenceKeys.user("665f1c2e9b1d4a0012345678") == "user_sockets:665f1c2e9b1d4a0012345678"
        )
        #expect(NotificationGateway.presenceKeys.instance("a") == "presence_instance:a")
        let server = NotificationGateway.makeServer(
            configuration: SocketIOServerConfiguration(instanceID: "i"),
            verifier: AccessTokenVerifier(secret: "s"), redis: nil, logger: Logger(label: "test.gateway"))
        #expect(server.configuration.namespace == "/notifications")
        #expect(server.configuration.channel == "decode-async:socket.io:/notifications")
        #expect(server.configuration.path == "/socket.io")
        let elsewhere = NotificationGateway.makeServer(
            configuration: SocketIOServerConfiguration(instanceID: "i", busChannel: "test.bus"),
            verifier: AccessTokenVerifier(secret: "s"), redis: nil, logger: Logger(label: "test.gateway"))
        #expect(elsewhere.configuration.channel == "test.bus")
    }

    /// A server as the gateway builds it (no Redis): a connected socket is in `user_<id>`, gets
    /// `user_connected`, and `emit(toUser:)` reaches it.
    @Test func aConnectedSocketIsInItsUserRoomAndGetsUserConnected() async throws {
        let server = NotificationGateway.makeServer(
            configuration: SocketIOServerConfiguration(instanceID: "unit"),
            verifier: AccessTokenVerifier(secret: AccessTokenVerifierTests.secret),
            redis: nil,
            logger: Logger(label: "test.gateway"))
        let running = Task { try await server.run() }
        defer { running.cancel() }
        let userID = "665f1c2e9b1d4a0012345678"
        let socket = try #require(server.open(transport: .polling, authorizationHeader: nil))
        _ = await socket.poll()
        let (_, outcomes) = socket.post(
            #"40/notifications,{"token":"\#(AccessTokenVerifierTests.token(userID: userID))"}"#, byteCount: 10)
        await server.process(outcomes, of: socket)
        var texts: [String] = []
        while !texts.contains(where: { $0.contains("user_connected") }) {
            guard case .packets(let packets) = await socket.poll().0 else { break }
            texts += packets.compactMap { packet in
                if case .message(let text) = packet { return text }
                return nil
            }
        }
        #expect(texts.contains { $0.contains(#""data":{"userId":"\#(userID)","socketId":"\#(socket.id)"}"#) })
        #expect(server.localSockets(inRoom: "user_\(userID)").map(\.id) == [socket.id])
        async let received = socket.poll()
        #expect(await server.emit(toUser: userID, "news", []) == 1)
        #expect(await received.0 == .packets([.message(#"2/notifications,["news"]"#)]))
    }
}
