import Testing

@testable import SocketIO

@Suite("Engine.IO and Socket.IO packets")
struct ProtocolTests {
    @Test func engineIOPacketsRoundTrip() throws {
        let packets: [EngineIOPacket] = [
            .close, .ping("probe"), .pong("probe"), .ping(""), .message("2[\"hello\"]"), .binary([0, 1, 255]), .upgrade,
            .noop,
        ]
        for packet in packets {
            #expect(try EngineIOPacket.parse(Substring(packet.text)) == packet)
        }
        #expect(EngineIOPacket.binary([1, 2, 3]).text == "bAQID")
        #expect(throws: EngineIOError("unknown packet type '9'")) { try EngineIOPacket.parse("9") }
        #expect(throws: EngineIOError("empty packet")) { try EngineIOPacket.parse("") }
    }

    @Test func handshakeCarriesTheSocketIODefaults() {
        let open = EngineIOPacket.open(EngineIOHandshake(sid: "abc"))
        #expect(
            open.text
                == #"0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
        )
    }

    @Test func pollingPayloadsUseTheRecordSeparator() throws {
        let payload = EngineIOPacket.encodePayload([.message("hello"), .binary([1, 2, 3]), .ping("")])
        #expect(payload == "4hello\u{1e}bAQID\u{1e}2")
        #expect(try EngineIOPacket.parsePayload(payload) == [.message("hello"), .binary([1, 2, 3]), .ping("")])
    }

    @Test func socketIOPacketsFollowTheV5Format() throws {
        let cases: [(SocketIOPacket, String)] = [
            (
                SocketIOPacket(type: .connect, namespace: "/notifications", data: .object(["token": .string("t")])),
                #"0/notifications,{"token":"t"}"#
            ),
            (SocketIOPacket(type: .connect), "0"),
            (SocketIOPacket(type: .disconnect, namespace: "/notifications"), "1/notifications,"),
            (
                .event(
                    "notification_received", [.object(["id": .string("1")])], namespace: "/notifications", ackID: 12),
                #"2/notifications,12["notification_received",{"id":"1"}]"#
            ),
            (
                SocketIOPacket(type: .ack, namespace: "/notifications", ackID: 12, data: .array([.bool(true)])),
                "3/notifications,12[true]"
            ),
            (
                SocketIOPacket(
                    type: .connectError, namespace: "/x", data: .object(["message": .string("Invalid namespace")])),
                #"4/x,{"message":"Invalid namespace"}"#
            ),
            (.event("hi", [.number(1.5), .null]), #"2["hi",1.5,null]"#),
        ]
        for (packet, text) in cases {
            #expect(packet.text == text)
            #expect(try SocketIOPacket.parse(text) == packet)
        }
        let parsed = try SocketIOPacket.parse(
            #"2/notifications,["mark_notification_read",{"notificationId":"665f1c2e9b1d4a0012345678"}]"#)
        #expect(parsed.eventNameAndArguments?.0 == "mark_notification_read")
        #expect(parsed.eventNameAndArguments?.1.first?["notificationId"]?.stringValue == "665f1c2e9b1d4a0012345678")
    }

    @Test func binaryPacketsCountTheirAttachments() throws {
        let packet = try SocketIOPacket.parse(#"51-["upload",{"_placeholder":true,"num":0}]"#)
        #expect(packet.type == .binaryEvent)
        #expect(packet.attachments == 1)
        #expect(packet.text == #"51-["upload",{"_placeholder":true,"num":0}]"#)
    }

    @Test(arguments: ["", "9", "2", "2{}", "2[1]", "3/ns,[true]", "2[\"a\"", "5[\"x\"]", "0[1]"])
    func malformedPacketsAreRefused(_ text: String) {
        #expect(throws: SocketIOError.self) { try SocketIOPacket.parse(text) }
    }
}
