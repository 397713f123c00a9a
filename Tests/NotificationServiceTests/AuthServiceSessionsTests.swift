import HTTPRequestClient
import Logging
import NIOCore
import NIOPosix
import Testing

@testable import NotificationService

@Suite struct AuthServiceSessionsTests {
    @Test func theBaseURLGivesTheEndpointAndThePathUnderItsPrefix() throws {
        let secure = try #require(AuthServiceSessions.parse("https://auth.example/api/"))
        #expect(secure.endpoint == .init(tls: true, host: "auth.example", port: 443))
        #expect(secure.path == "/api/auth/info/by-access-token")
        let plain = try #require(AuthServiceSessions.parse("http://127.0.0.1:3000"))
        #expect(plain.endpoint == .init(tls: false, host: "127.0.0.1", port: 3000))
        #expect(plain.path == "/auth/info/by-access-token")
        for bad in ["ftp://auth", "auth:3000", "http://"] {
            #expect(AuthServiceSessions.parse(bad) == nil, "\(bad)")
        }
    }

    /// An auth service that cannot be reached answers `unavailable` (the connect failure used to
    /// leave the answer's promise pending, which NIO reports as a leak).
    @Test func anUnreachableAuthServiceIsUnavailable() async throws {
        let closed = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(closed.localAddress?.port)
        try await closed.close()
        let sessions = try #require(
            AuthServiceSessions(baseURL: "http://127.0.0.1:\(port)", logger: Logger(label: "test.auth")))
        #expect(await sessions.confirm(token: "any") == .failure(.unavailable))
    }
}
