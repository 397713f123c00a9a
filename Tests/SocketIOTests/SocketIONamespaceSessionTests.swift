import Foundation
import Testing

@testable import SocketIO

@Suite("Socket.IO namespace session")
struct SocketIONamespaceSessionTests {
    let now = Date(timeIntervalSince1970: 1_700_000_000)

    func session(header: String? = nil) -> SocketIONamespaceSession {
        SocketIONamespaceSession(
            socketID: "sock-1",
            verifier: AccessTokenVerifier(secret: AccessTokenVerifierTests.secret),
            authorizationHeader: header
        )
    }

    @Test func validTokenInTheAuthPayloadAuthenticates() {
        var session = self.session()
        let token = AccessTokenVerifierTests.token()
        let (send, outcome) = session.received(#"0/notifications,{"token":"\#(token)"}"#)
        #expect(send == [#"0/notifications,{"sid":"sock-1"}"#])
        #expect(outcome == .authenticated(userID: "665f1c2e9b1d4a0012345678"))
        #expect(
            session.userConnectedEvent(userID: "665f1c2e9b1d4a0012345678", now: self.now)
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

    @Test func otherNamespacesAreRefused() {
        var session = self.session()
        #expect(session.received("0/admin,").send == [#"4/admin,{"message":"Invalid namespace"}"#])
        #expect(session.state == .awaitingConnect)
    }

    @Test func eventsAcksAndDisconnect() {
        var session = self.session()
        _ = session.received(#"0/notifications,{"token":"\#(AccessTokenVerifierTests.token())"}"#)
        let event = session.received(#"2/notifications,5["mark_notification_read",{"notificationId":"abc"}]"#)
        #expect(
            event.outcome
                == .event(
                    name: "mark_notification_read", arguments: [.object(["notificationId": .string("abc")])], ackID: 5))
        #expect(session.ack(5, [.bool(true)]) == "3/notifications,5[true]")
        let (text, ackID) = session.emit("notification_received", [.object(["id": .string("n1")])], wantsAck: true)
        #expect(text == #"2/notifications,0["notification_received",{"id":"n1"}]"#)
        #expect(ackID == 0)
        #expect(session.emit("x", [], wantsAck: true).ackID == 1)
        #expect(
            session.received("3/notifications,0[\"ok\"]").outcome == .ackReceived(id: 0, arguments: [.string("ok")]))
        #expect(session.received("1/notifications,").outcome == .disconnected)
    }

    @Test func eventsBeforeAuthenticationGetNotAuthenticated() {
        var session = self.session()
        let (send, outcome) = session.received(#"2/notifications,["mark_notification_read",{}]"#, now: self.now)
        #expect(outcome == .none)
        #expect(send.first?.contains(#""code":"NOT_AUTHENTICATED","message":"User not authenticated""#) == true)
        #expect(session.state == .awaitingConnect)
    }
}
