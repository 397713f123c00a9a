import FlowKit
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Console

/// The review's findings (issue #16): host names answered, the `Secure` cookie, the throttle on
/// wrong tokens, the body limit's status, the dead-letter page's real total.
@Suite struct ConsoleHardeningTests {
    static let token = ConsoleRoutesTests.token

    // MARK: Host names (DNS rebinding)

    @Test func theHostPolicyAnswersTheConsolesOwnNamesOnly() {
        let policy = ConsoleHostPolicy(bindHost: "10.0.0.5", port: 4010, allowed: ["Console.Example.com", "ops:8443"])
        for host in [
            "127.0.0.1:4010", "localhost:4010", "LOCALHOST:4010", "localhost.:4010", "[::1]:4010", "10.0.0.5:4010",
            "console.example.com", "console.example.com:443", "ops:8443", nil, "",
        ] {
            #expect(policy.allows(host: host), "\(host ?? "nil")")
        }
        for host in [
            "evil.example:4010", "evil.example", "127.0.0.1:4011", "localhost", "10.0.0.5:80", "ops", "ops:8444",
            "localhost:40x0", "[::1", "127.0.0.1.evil.example:4010", "console.example.com.evil:443",
        ] {
            #expect(!policy.allows(host: host), "\(host)")
        }
        // A wildcard bind address names no host; port 0 (chosen at bind time) takes any port.
        let wildcard = ConsoleHostPolicy(bindHost: "0.0.0.0", port: 0)
        #expect(wildcard.allows(host: "127.0.0.1:5555"))
        #expect(!wildcard.allows(host: "0.0.0.0:5555"))
        #expect(ConsoleHostPolicy(bindHost: "::1", port: 9).allows(host: "[::1]:9"))
    }

    /// Through a real server: a browser on a rebound name sends its own `Host`, and gets 421 on
    /// every console route; the loopback name passes; `/health`-style routes registered before the
    /// console's are not the console's to refuse.
    @Test func aRequestForAnotherHostNameIsAnswered421() async throws {
        let hosts = ConsoleHostPolicy(bindHost: "127.0.0.1", port: 0, allowed: ["console.example.com"])
        try await ConsoleRoutesTests.application(hosts: hosts).test(.live) { client in
            let port = try #require(client.port)
            let raw = TestClient(host: "127.0.0.1", port: port)
            raw.connect()
            func status(_ uri: String, _ method: HTTPRequest.Method, host: String, _ headers: HTTPFields = [:])
                async throws -> HTTPResponse.Status
            {
                let body = method == .post ? ByteBuffer(string: "token=\(Self.token)") : nil
                return try await raw.execute(
                    .init(uri, method: method, authority: host, headers: headers, body: body)
                ).status
            }
            let bearer: HTTPFields = [.authorization: "Bearer \(Self.token)"]
            #expect(try await status("/", .get, host: "evil.example:\(port)") == .misdirectedRequest)
            #expect(try await status("/login", .get, host: "evil.example:\(port)") == .misdirectedRequest)
            #expect(try await status("/login", .post, host: "evil.example:\(port)") == .misdirectedRequest)
            #expect(
                try await status("/api/overview", .get, host: "evil.example:\(port)", bearer) == .misdirectedRequest)
            #expect(try await status("/login", .get, host: "127.0.0.1:\(port)") == .ok)
            #expect(try await status("/login", .get, host: "localhost:\(port)") == .ok)
            #expect(try await status("/login", .get, host: "console.example.com") == .ok)
            try await raw.shutdown()
        }
    }

    // MARK: The Secure cookie

    @Test func theSecureFlagIsSetOnlyWhenConfigured() async throws {
        for secure in [false, true] {
            try await ConsoleRoutesTests.application(secureCookie: secure).test(.router) { client in
                let signIn = try await client.execute(
                    uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: "token=\(Self.token)"))
                let cookie = try #require(signIn.headers[.setCookie])
                #expect(cookie.contains("; Secure") == secure)
                #expect(cookie.contains("HttpOnly"))
                let signOut = try await client.execute(uri: "/logout", method: .post)
                #expect(signOut.headers[.setCookie]?.contains("; Secure") == secure)
                #expect(signOut.headers[.setCookie]?.contains("Max-Age=0") == true)
            }
        }
    }

    // MARK: Wrong tokens

    @Test func fiveWrongTokensWithinAMinuteThrottleThatAddressOnly() {
        let clock = TestClock(Date(timeIntervalSince1970: 1_800_000_000))
        let throttle = SignInThrottle(now: { clock.get() })
        for _ in 1...4 {
            #expect(throttle.retryAfter(address: "10.0.0.1") == nil)
            throttle.recordFailure(address: "10.0.0.1")
            clock.advance(5)
        }
        #expect(throttle.retryAfter(address: "10.0.0.1") == nil)
        throttle.recordFailure(address: "10.0.0.1")
        // The first failure was 20 s ago: 40 s to wait.
        #expect(throttle.retryAfter(address: "10.0.0.1") == 40)
        #expect(throttle.retryAfter(address: "10.0.0.2") == nil)
        clock.advance(39)
        #expect(throttle.retryAfter(address: "10.0.0.1") == 1)
        clock.advance(1)
        #expect(throttle.retryAfter(address: "10.0.0.1") == nil)
        // A right token clears the address.
        for _ in 1...4 { throttle.recordFailure(address: "10.0.0.2") }
        throttle.recordSuccess(address: "10.0.0.2")
        throttle.recordFailure(address: "10.0.0.2")
        #expect(throttle.retryAfter(address: "10.0.0.2") == nil)
    }

    /// The throttle counts per connection address, which comes from the request context the
    /// services run with (FlowKit's): over a real connection it is the peer's address, not the
    /// "unknown" that every route test without one shares.
    @Test func theThrottleSeesTheConnectionsAddressThroughTheServicesContext() async throws {
        let router = Router(context: ServiceRequestContext.self)
        router.get("address") { _, context in ConsoleRoutes.clientAddress(context) }
        try await Application(router: router).test(.live) { client in
            let response = try await client.execute(uri: "/address", method: .get)
            #expect(String(buffer: response.body) == "127.0.0.1")
        }
    }

    /// The sixth try within the minute is answered 429 with `Retry-After`, the right token
    /// included (it is not looked at); wrong bearer tokens count the same.
    @Test func theSixthSignInWithinAMinuteGets429() async throws {
        try await ConsoleRoutesTests.application().test(.router) { client in
            func signIn(_ token: String) async throws -> TestResponse {
                try await client.execute(
                    uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: "token=\(token)"))
            }
            for attempt in 1...5 {
                #expect(try await signIn("guess-\(attempt)").status == .unauthorized)
            }
            let refused = try await signIn(Self.token)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.setCookie] == nil)
            let wait = try #require(refused.headers[.retryAfter].flatMap { Int($0) })
            #expect((1...60).contains(wait))
            let api = try await client.execute(
                uri: "/api/overview", method: .get, headers: [.authorization: "Bearer \(Self.token)"])
            #expect(api.status == .tooManyRequests)
        }
        try await ConsoleRoutesTests.application().test(.router) { client in
            for _ in 1...5 {
                let wrong = try await client.execute(
                    uri: "/api/overview", method: .get, headers: [.authorization: "Bearer wrong-token-guess"])
                #expect(wrong.status == .unauthorized)
            }
            let signIn = try await client.execute(
                uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "token=\(Self.token)"))
            #expect(signIn.status == .tooManyRequests)
        }
    }

    // MARK: Body limit

    @Test func aBodyOverOneMegabyteIsAnswered413() async throws {
        try await ConsoleRoutesTests.application().test(.router) { client in
            let headers: HTTPFields = [.authorization: "Bearer \(Self.token)", .contentType: "application/json"]
            let big = ByteBuffer(repeating: UInt8(ascii: " "), count: ConsoleRoutes.maxBodyBytes + 1)
            for action in ["replay", "delete", "purge"] {
                let response = try await client.execute(
                    uri: "/api/queues/q1/dead-letters/\(action)", method: .post, headers: headers, body: big)
                #expect(response.status == .contentTooLarge, "\(action)")
            }
            // At the limit the body is read (and is not JSON: 400).
            let limit = ByteBuffer(repeating: UInt8(ascii: " "), count: ConsoleRoutes.maxBodyBytes)
            let read = try await client.execute(
                uri: "/api/queues/q1/dead-letters/purge", method: .post, headers: headers, body: limit)
            #expect(read.status == .badRequest)
        }
    }

    // MARK: The page's total

    @Test func thePageTotalIsTheQueuesDepthWhileThePagesCoverTheLettersRead() {
        let page = Page(oldestFirst: Array(1...25), page: 3, pageSize: 10, total: 1_500, readLimit: .letters)
        #expect(page.total == 1_500)
        #expect(page.read == 25)
        #expect(page.pages == 3)
        #expect(page.items == [5, 4, 3, 2, 1])
        #expect(page.readLimit == .letters)
        // A depth read before more letters arrived never says fewer than were read.
        #expect(Page(oldestFirst: Array(1...5), page: 1, pageSize: 10, total: 3).total == 5)
    }
}

/// A date the test moves forward.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var date: Date

    init(_ date: Date) {
        self.date = date
    }

    func get() -> Date { self.lock.withLock { self.date } }

    func advance(_ seconds: TimeInterval) {
        self.lock.withLock { self.date += seconds }
    }
}
