import Foundation
import NotificationService
import RedisClient
import SocketIO
import Testing

/// The gateway against an unmodified client: python-socketio in its default configuration
/// (long-polling, then the upgrade) and WebSocket-only, with the token in the auth payload or the
/// `Authorization` header, on one instance and across two instances sharing Redis.
@Suite("Socket.IO gateway with python-socketio")
struct SocketIOGatewayIntegrationTests {
    static var python: String { TestEnvironment.repositoryRoot.appendingPathComponent(".venv/bin/python").path }
    static let peer = "Tests/IntegrationTests/Peers/socketio_peer.py"

    /// Runs the peer; returns its JSON report.
    static func peer(
        url: String, token: String, transports: String, scenario: String, tokenIn: String = "auth",
        stay: String = "3.5"
    ) async throws -> JSONValue {
        let output = try await TestEnvironment.run(
            [Self.python, Self.peer, url, token, transports, scenario, tokenIn, stay], timeout: .seconds(120))
        let line = try #require(output.split(separator: "\n").last { $0.hasPrefix("{") }, "peer output: \(output)")
        return try JSONValue.parse(line)
    }

    /// As parsed JSON comes back: object members sorted by key.
    static func normalized(_ value: JSONValue) throws -> JSONValue {
        try JSONValue.parse(Substring(value.text))
    }

    static func events(_ report: JSONValue, named name: String) -> [JSONValue] {
        guard case .array(let events)? = report["events"] else { return [] }
        return events.filter { $0["event"]?.stringValue == name }.compactMap { $0["payload"] }
    }

    @Test(arguments: [("default", "auth"), ("websocket", "auth"), ("default", "header"), ("websocket", "header")])
    func sessionWithAValidToken(transports: String, tokenIn: String) async throws {
        try await GatewayHarness.run { gateways in
            let gateway = gateways[0]
            let userID = "665f1c2e9b1d4a\(String(UUID().uuidString.prefix(10)).lowercased())"
            let token = GatewayHarness.signer.token(userID: userID)
            async let report = Self.peer(
                url: gateway.url, token: token, transports: transports, scenario: "session", tokenIn: tokenIn)
            try await eventually("the client is connected") { !gateway.server.localSockets(ofUser: userID).isEmpty }
            #expect(await gateway.server.isUserConnected(userID))
            let payload = JSONValue.object([
                "event": .string("notification_received"), "data": .object(["id": .string("n1")]),
            ])
            let written = await gateway.server.emit(toUser: userID, "notification_received", [payload], wantsAck: true)
            #expect(written == 1)
            let result = try await report

            // What the client saw: user_connected with its ids, the event, the acks of its calls.
            let connected = try #require(Self.events(result, named: "user_connected").first)
            #expect(connected["data"]?["userId"]?.stringValue == userID)
            #expect(connected["event"]?.stringValue == "user_connected")
            #expect(Self.events(result, named: "notification_received") == [try Self.normalized(payload)])
            #expect(result["mark_read_reply"]?["ok"] == .bool(true))
            #expect(result["mark_read_reply"]?["user"]?.stringValue == userID)
            #expect(result["echo_reply"]?["still"]?.stringValue == "here")
            #expect(result["connected_at_end"] == .bool(true))
            #expect(result["transport"]?.stringValue == "websocket")
            #expect(Self.events(result, named: "error").isEmpty)

            // What the server saw: the client's ack of our emit, and the delivery.
            try await eventually("the ack arrived") { await gateway.delegate.acks.count == 1 }
            let ack = try #require(await gateway.delegate.acks.values.first)
            #expect(ack.1 == userID)
            #expect(ack.2 == [.object(["received": .bool(true)])])
            let delivery = try #require(await gateway.delegate.deliveries.values.first)
            #expect(delivery.1 == 1)
            #expect(await gateway.delegate.authenticated.values == [userID])

            // Leaving clears presence.
            try await eventually("the socket is gone") { gateway.server.localSockets(ofUser: userID).isEmpty }
            try await eventually("presence is cleared") { await gateway.server.isUserConnected(userID) == false }
        }
    }

    @Test(arguments: ["default", "websocket"])
    func badTokensAreRefusedAsTheOriginalRefusesThem(transports: String) async throws {
        try await GatewayHarness.run { gateways in
            let gateway = gateways[0]
            let forged = AccessTokenSigner(secret: "not-the-secret").token(userID: "665f1c2e9b1d4a0012345678")
            let report = try await Self.peer(
                url: gateway.url, token: forged, transports: transports, scenario: "refused")
            #expect(report["connected"] == .bool(true))
            #expect(report["server_disconnected"] == .bool(true))
            let error = try #require(Self.events(report, named: "error").first)
            #expect(error["event"]?.stringValue == "error")
            #expect(error["error"]?["code"]?.stringValue == "INVALID_TOKEN")
            #expect(error["error"]?["message"]?.stringValue == "Invalid authentication token")
            #expect(Self.events(report, named: "user_connected").isEmpty)
            #expect(await gateway.delegate.authenticated.count == 0)
        }
    }

    @Test func missingTokenIsAuthenticationRequired() async throws {
        try await GatewayHarness.run { gateways in
            let report = try await Self.peer(
                url: gateways[0].url, token: "", transports: "websocket", scenario: "refused")
            let error = try #require(Self.events(report, named: "error").first)
            #expect(error["error"]?["code"]?.stringValue == "AUTHENTICATION_REQUIRED")
            #expect(error["error"]?["message"]?.stringValue == "Authentication token is required")
        }
    }

    @Test(arguments: ["default", "websocket"])
    func emitsReachAClientOnAnotherInstance(transports: String) async throws {
        try await GatewayHarness.run(instances: 2) { gateways in
            let (a, b) = (gateways[0], gateways[1])
            let userID = "665f1c2e9b1d4a\(String(UUID().uuidString.prefix(10)).lowercased())"
            let token = GatewayHarness.signer.token(userID: userID)
            async let report = Self.peer(url: b.url, token: token, transports: transports, scenario: "session")
            try await eventually("the client is connected to B") { !b.server.localSockets(ofUser: userID).isEmpty }
            // A has no socket of the user, but knows through Redis that the user is online.
            #expect(a.server.localSockets(ofUser: userID).isEmpty)
            try await eventually("A sees the user online") { await a.server.isUserConnected(userID) }
            let payload = JSONValue.object(["event": .string("notification_received"), "via": .string("A")])
            let writtenOnA = await a.server.emit(toUser: userID, "notification_received", [payload], wantsAck: true)
            #expect(writtenOnA == 0)
            let result = try await report
            #expect(Self.events(result, named: "notification_received") == [try Self.normalized(payload)])
            // B wrote it and heard the client's ack.
            try await eventually("B recorded the ack") { await b.delegate.acks.count == 1 }
            #expect(await b.delegate.deliveries.values.map(\.1) == [1])
            #expect(await a.delegate.deliveries.count == 0)
        }
    }

    @Test func aWebSocketMessageOverMaxPayloadClosesWithMessageTooBig() async throws {
        try await GatewayHarness.run { gateways in
            let size = String(gateways[0].server.configuration.maxPayload + 10)
            let output = try await TestEnvironment.run([Self.python, Self.peer, "oversized", gateways[0].url, size])
            let line = try #require(output.split(separator: "\n").last { $0.hasPrefix("{") }, "peer output: \(output)")
            let report = try JSONValue.parse(line)
            #expect(report["open"]?.stringValue == "0")
            #expect(report["close_code"] == .number(1009), "peer: \(output)")
            try await eventually("the session is gone") { gateways[0].server.localSocketCount == 0 }
        }
    }
}
