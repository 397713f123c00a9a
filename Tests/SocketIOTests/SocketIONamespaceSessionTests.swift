import Foundation
import Testing

@testable import SocketIO

@Suite("Socket.IO namespace session")
struct SocketIONamespaceSessionTests {
    let now = Date(timeIntervalSince1970: 1_700_000_000)

    func session(header: String? = nil, hooks: any SocketIOServerHooks = TestHooks()) -> SocketIONamespaceSession {
        SocketIONamespaceSession(
            namespace: "/notifications",
            socketID: "sock-1",
            hooks: hooks,
            authorizationHeader: header
        )
    }

    @Test func theAuthenticationHookNamesTheUserAndKeepsItsCredential() {
        var session = self.session()
        let (send, outcome) = session.received(#"0/notifications,{"token":"key-ada"}"#)
        #expect(send == [#"0/notifications,{"sid":"sock-1"}"#])
        #expect(outcome == .authenticated(userID: "ada"))
        #expect(session.state == .authenticated(userID: "ada"))
        #expect(session.credential == "key-ada")
    }

    @Test func theAuthenticationHookSeesTheHandshakeHeaderAndTheAuthPayload() {
        var session = self.session(header: "Bearer key-bob")
        #expect(session.received(#"0/notifications,{"token":"key-ada"}"#).outcome == .authenticated(userID: "bob"))
    }

    @Test func refusalsConnectThenGetTheHooksErrorEventAndDisconnect() {
        let cases: [(String, SocketIOClientError)] = [
            ("0/notifications,", TestHooks.missing),
            (#"0/notifications,{"token":"stolen"}"#, TestHooks.wrong),
        ]
        for (connect, error) in cases {
            var session = self.session()
            let (send, outcome) = session.received(connect, now: self.now)
            #expect(outcome == .disconnected)
            #expect(
                send == [
                    #"0/notifications,{"sid":"sock-1"}"#,
                    #"2/notifications,["error",{"code":"\#(error.code)","message":"\#(error.message)"}]"#,
                    "1/notifications,",
                ]
            )
            #expect(session.state == .disconnected)
            #expect(session.credential == nil)
        }
    }

    /// Hooks that tell errors their own way.
    struct Shouting: SocketIOServerHooks {
        func authenticate(_ handshake: SocketIOHandshake, now: Date) throws(SocketIOClientError) -> SocketIOIdentity {
            throw SocketIOClientError(code: "NOPE", message: "no")
        }

        func errorEvent(_ error: SocketIOClientError, now: Date) -> (event: String, arguments: [JSONValue]) {
            ("oops", [.string(error.code.lowercased()), .number(now.timeIntervalSince1970)])
        }
    }

    @Test func theHooksChooseHowErrorsAreTold() {
        var session = self.session(hooks: Shouting())
        let (send, _) = session.received("0/notifications,", now: self.now)
        #expect(send.dropFirst().first == #"2/notifications,["oops","nope",1700000000]"#)
        var waiting = self.session(hooks: Shouting())
        #expect(
            waiting.received(#"2/notifications,["x"]"#, now: self.now).send == [
                #"2/notifications,["oops","not_authenticated",1700000000]"#
            ])
    }

    @Test func otherNamespacesAreRefused() {
        var session = self.session()
        #expect(session.received("0/admin,").send == [#"4/admin,{"message":"Invalid namespace"}"#])
        #expect(session.state == .awaitingConnect)
    }

    @Test func eventsAcksAndDisconnect() {
        var session = self.session()
        _ = session.received(#"0/notifications,{"token":"\#(TestHooks.token())"}"#)
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
