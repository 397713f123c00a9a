import Foundation
import HTTPServerLimits
import Logging
import Testing

/// Slow and broken HTTP clients against a live gateway with short limits (1 s head and idle
/// timeouts): each is answered or closed, while a parked long-poll and an idle WebSocket opened
/// before live on. Waits are bounded; nothing asserts a duration.
@Suite("HTTP limits")
struct HTTPLimitsIntegrationTests {
    static let limits = HTTPLimits(headTimeout: .seconds(1), idleTimeout: .seconds(1), maxHeadBytes: 16_384)

    func withGateway(_ body: @Sendable (LimitedGateway) async throws -> Void) async throws {
        // Pings every 3 s: longer than both limits, so a parked poll or an idle WebSocket outlives them.
        try await LimitedGateway.run(
            redisURI: RedisIntegrationTests.uri, limits: Self.limits, pingInterval: .seconds(3), body)
    }

    @Test func aHalfSentHeadIsClosed() async throws {
        try await self.withGateway { gateway in
            let connection = try await RawConnection.connect(port: gateway.port)
            defer { connection.close() }
            try await connection.send("GET /health HTTP/1.1\r\nHost: x\r\n")
            try await eventually("the server closes the half-sent head") { connection.isClosedByServer }
            #expect(connection.text.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
        }
    }

    @Test func connectionsCutBeforeTheirFirstHeadAreNoServerErrors() async throws {
        let logs = LogRecorder()
        try await LimitedGateway.run(redisURI: RedisIntegrationTests.uri, limits: Self.limits, httpLogs: logs) {
            gateway in
            let silent = try await RawConnection.connect(port: gateway.port)
            defer { silent.close() }
            let garbage = try await RawConnection.connect(port: gateway.port)
            defer { garbage.close() }
            try await garbage.send([0x16, 0x03, 0x01, 0x00, 0x00])
            try await eventually("both are closed") { silent.isClosedByServer && garbage.isClosedByServer }
            // hummingbird-websocket reports the connection that ended before a head; at debug level.
            try await eventually("the upgrade's end is logged") {
                logs.all.filter { $0.message.contains("upgrade result") }.count == 2
            }
        }
        #expect(!logs.all.contains { $0.message.contains("upgrade result") && $0.level > .debug })
    }

    @Test func aSilentConnectionIsClosed() async throws {
        try await self.withGateway { gateway in
            let connection = try await RawConnection.connect(port: gateway.port)
            defer { connection.close() }
            try await eventually("the server closes the silent connection") { connection.isClosedByServer }
            #expect(connection.received.isEmpty)
        }
    }

    @Test func aHundredKilobyteHeaderGets431ThenAClose() async throws {
        try await self.withGateway { gateway in
            let connection = try await RawConnection.connect(port: gateway.port)
            defer { connection.close() }
            let token = String(repeating: "a", count: 100 * 1024)
            try? await connection.send("GET /health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\n\r\n")
            try await eventually("the server closes after its answer") { connection.isClosedByServer }
            #expect(connection.text.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large\r\n"))
            #expect(connection.text.lowercased().contains("connection: close"))
        }
    }

    @Test func binaryGarbageGets400ThenAClose() async throws {
        try await self.withGateway { gateway in
            let connection = try await RawConnection.connect(port: gateway.port)
            defer { connection.close() }
            var generator = SystemRandomNumberGenerator()
            let garbage: [UInt8] =
                [0x16, 0x03, 0x01, 0x00] + (0..<196).map { _ in UInt8.random(in: 0...255, using: &generator) }
            try await connection.send(garbage)
            try await eventually("the server closes after its answer") { connection.isClosedByServer }
            #expect(connection.text.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        }
    }

    @Test func anIdleKeepAliveConnectionIsClosedAfterItsResponse() async throws {
        try await self.withGateway { gateway in
            let connection = try await RawConnection.connect(port: gateway.port)
            defer { connection.close() }
            try await connection.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            try await eventually("the health answer") { connection.text.hasSuffix("ok") }
            #expect(connection.text.hasPrefix("HTTP/1.1 200 OK\r\n"))
            let answered = connection.received.count
            try await eventually("the server closes the idle connection") { connection.isClosedByServer }
            #expect(connection.received.count == answered)
        }
    }

    @Test func aParkedLongPollOutlivesTheLimitsAndGetsItsPing() async throws {
        try await self.withGateway { gateway in
            let opening = try await RawConnection.connect(port: gateway.port)
            defer { opening.close() }
            try await opening.send("GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n")
            var sid = ""
            try await eventually("the open packet") {
                let text = opening.text
                guard let start = text.range(of: "\"sid\":\""),
                    let end = text[start.upperBound...].firstIndex(of: "\"")
                else { return false }
                sid = String(text[start.upperBound..<end])
                return text.contains("}")
            }
            // The next poll parks until the server's ping (after 3 s, past the 1 s head and idle
            // limits). A connection of its own: the opening one may idle out meanwhile.
            let poll = try await RawConnection.connect(port: gateway.port)
            defer { poll.close() }
            try await poll.send("GET /socket.io/?EIO=4&transport=polling&sid=\(sid) HTTP/1.1\r\nHost: x\r\n\r\n")
            try await eventually("the ping on the parked poll") {
                let text = poll.text
                return text.hasPrefix("HTTP/1.1 200") && text.hasSuffix("\r\n\r\n2")
            }
            // The poll was answered, not cut: a poll of a session is its connection's last request
            // (the server watches the connection to end the session if the client goes away), and
            // its answer says so, so no client sends another request on it.
            #expect(poll.text.lowercased().contains("\r\nconnection: close\r\n"))
        }
    }

    @Test func aWebSocketRequestThatIsNotUpgradedGetsEngineIOsAnswer() async throws {
        try await self.withGateway { gateway in
            let connection = try await RawConnection.connect(port: gateway.port)
            defer { connection.close() }
            try await connection.send(
                "GET /socket.io/?EIO=4&transport=websocket&sid=unknown HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            try await eventually("the answer") { connection.text.contains("Session ID unknown") }
            #expect(connection.text.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
            #expect(connection.text.contains("{\"code\":1,\"message\":\"Session ID unknown\"}"))
        }
    }

    @Test func anUpgradeAfterAnotherRequestOnTheConnectionIsSentToANewOne() async throws {
        try await self.withGateway { gateway in
            let connection = try await RawConnection.connect(port: gateway.port)
            defer { connection.close() }
            try await connection.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            try await eventually("the first answer") { connection.text.contains("ok") }
            connection.consume(connection.received.count)
            // NIO upgrades only a connection's first request: this one is redirected, then closed.
            await #expect(throws: RawConnection.WebSocketFailure.self) {
                try await connection.upgradeToWebSocket(path: "/socket.io/?EIO=4&transport=websocket")
            }
            try await eventually("the redirect and the close") { connection.isClosedByServer }
            #expect(connection.text.hasPrefix("HTTP/1.1 307 Temporary Redirect\r\n"))
            #expect(connection.text.lowercased().contains("location: /socket.io/?eio=4&transport=websocket"))
        }
    }

    @Test func anIdleWebSocketOutlivesTheLimitsAndGetsItsPings() async throws {
        try await self.withGateway { gateway in
            let connection = try await RawConnection.connect(port: gateway.port)
            defer { connection.close() }
            try await connection.upgradeToWebSocket(path: "/socket.io/?EIO=4&transport=websocket")
            #expect(try await connection.receiveWebSocketText().hasPrefix("0{"))
            // Silent past both limits until the server's ping; answered, then a second ping.
            #expect(try await connection.receiveWebSocketText() == "2")
            try await connection.sendWebSocketText("3")
            #expect(try await connection.receiveWebSocketText() == "2")
            #expect(!connection.isClosedByServer)
        }
    }
}
