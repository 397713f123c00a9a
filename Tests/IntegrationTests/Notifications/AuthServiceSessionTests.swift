import Foundation
import Hummingbird
import Logging
import MongoStore
import NIOCore
import NotificationService
import SocketIO
import Testing

/// A stand-in for the auth service's `POST /auth/info/by-access-token`, answering by the token's
/// user: `revoked` users get `success: false`, `expired` ones HTTP 401, `broken` ones HTTP 500;
/// others are confirmed. It counts the calls (to see the cache work).
struct FakeAuthService {
    let revoked: Set<String>
    let expired: Set<String>
    let broken: Set<String>
    let calls = Recorder<String>()

    func run(_ body: @Sendable (String) async throws -> Void) async throws {
        let router = Router()
        router.post("auth/info/by-access-token") { request, _ -> Response in
            let buffer = try await request.body.collect(upTo: 1 << 16)
            let token = try JSONValue.parse(Substring(String(buffer: buffer)))["access_token"]?.stringValue ?? ""
            let userID = (try? AccessTokenVerifier(secret: NotificationHarness.secret).userID(from: token)) ?? ""
            await self.calls.append(userID)
            let answer: (HTTPResponse.Status, JSONValue)
            if self.revoked.contains(userID) {
                answer = (.ok, .object(["success": .bool(false), "message": .string("Session revoked")]))
            } else if self.expired.contains(userID) {
                answer = (.unauthorized, .object(["success": .bool(false)]))
            } else if self.broken.contains(userID) {
                answer = (.internalServerError, .object(["success": .bool(false)]))
            } else {
                answer = (.ok, .object(["success": .bool(true), "data": .object(["_id": .string(userID)])]))
            }
            return Response(
                status: answer.0, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: answer.1.text)))
        }
        let port = PortBox()
        let application = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in await port.set(channel.localAddress?.port ?? 0) },
            logger: GatewayHarness.quietLogger
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await application.runService(gracefulShutdownSignals: []) }
            try await eventually("the fake auth service listens") { await port.value != 0 }
            defer { group.cancelAll() }
            try await body("http://127.0.0.1:\(await port.value)")
        }
    }
}

/// With `AUTH_SERVICE_URL`, REST requests and sockets are confirmed with the auth service, and
/// its answers map to the original guard's refusals.
@Suite("Session confirmation with the auth service")
struct AuthServiceSessionTests {
    @Test func restRefusalsMapToTheOriginalGuardAndAcceptedTokensAreCached() async throws {
        let (good, revoked, expired, broken) = (
            NotificationHarness.newUserID(), NotificationHarness.newUserID(), NotificationHarness.newUserID(),
            NotificationHarness.newUserID()
        )
        let auth = FakeAuthService(revoked: [revoked], expired: [expired], broken: [broken])
        try await auth.run { authURL in
            try await BrokerLock.shared {
                try await NotificationHarness.run(authService: authURL) { harness in
                    for (user, message, error) in [
                        (revoked, "Token validation failed", "VALIDATION_ERROR"),
                        (expired, "Invalid or expired access token", "TOKEN_EXPIRED"),
                        (broken, "Authentication service unavailable", "SERVICE_UNAVAILABLE"),
                    ] {
                        let (status, body) = try await harness.request(
                            "GET", "/notifications/unread/count", token: NotificationHarness.signer.token(userID: user))
                        #expect(status == 401)
                        #expect(body["statusCode"] == .number(401))
                        #expect(body["message"]?.stringValue == message)
                        #expect(body["error"]?.stringValue == error)
                    }
                    let token = NotificationHarness.signer.token(userID: good)
                    for _ in 0..<3 {
                        let (status, _) = try await harness.request("GET", "/notifications/unread/count", token: token)
                        #expect(status == 200)
                    }
                    // Confirmed once, then served from the 5-minute cache.
                    #expect(await auth.calls.values.filter { $0 == good }.count == 1)
                }
            }
        }
    }

    @Test func aRevokedSessionCannotKeepASocket() async throws {
        let revoked = NotificationHarness.newUserID()
        let auth = FakeAuthService(revoked: [revoked], expired: [], broken: [])
        try await auth.run { authURL in
            try await BrokerLock.shared {
                try await NotificationHarness.run(authService: authURL) { harness in
                    let report = try await SocketIOGatewayIntegrationTests.peer(
                        url: harness.url, token: NotificationHarness.signer.token(userID: revoked),
                        transports: "websocket", scenario: "refused")
                    let error = try #require(SocketIOGatewayIntegrationTests.events(report, named: "error").first)
                    #expect(error["error"]?["code"]?.stringValue == "INVALID_TOKEN")
                    #expect(report["server_disconnected"] == .bool(true))
                    #expect(SocketIOGatewayIntegrationTests.events(report, named: "user_connected").isEmpty)
                    #expect(harness.server.localSockets(ofUser: revoked).isEmpty)
                }
            }
        }
    }
}
