import AMQPClient
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@testable import Console

/// Sign-in, sessions and the origin rule through the router, without a network: no route used here
/// reaches the broker (the client is never started).
@Suite struct ConsoleRoutesTests {
    static let token = "unit-console-token"

    /// The console's routes on a router, with queue `q1` and no other data source; the defaults
    /// are the routes' own.
    static func application(
        hosts: ConsoleHostPolicy = ConsoleHostPolicy(bindHost: "127.0.0.1", port: 0), secureCookie: Bool = false
    ) throws -> some ApplicationProtocol {
        let broker = AMQPClient(
            configuration: .init(connection: try AMQPConnectionConfiguration(uri: "amqp://127.0.0.1:1")),
            logger: Logger(label: "test"))
        let data = ConsoleData(
            broker: broker, queues: ["q1"], management: nil, redis: nil, mongo: nil, graph: nil,
            logger: Logger(label: "test"))
        let routes = try ConsoleRoutes(
            token: Self.token, data: data, logger: Logger(label: "test"), hosts: hosts, secureCookie: secureCookie)
        let router = Router()
        routes.register(on: router)
        return Application(router: router)
    }

    @Test func thePageSendsStrangersToTheSignInForm() async throws {
        try await Self.application().test(.router) { client in
            let page = try await client.execute(uri: "/", method: .get)
            #expect(page.status == .seeOther)
            #expect(page.headers[.location] == "/login")
            let form = try await client.execute(uri: "/login", method: .get)
            #expect(form.status == .ok)
            #expect(String(buffer: form.body).contains(#"name="token""#))
            let api = try await client.execute(uri: "/api/overview", method: .get)
            #expect(api.status == .unauthorized)
        }
    }

    @Test func aWrongTokenGets401AndTheFormAgain() async throws {
        try await Self.application().test(.router) { client in
            let response = try await client.execute(
                uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "token=guess"))
            #expect(response.status == .unauthorized)
            #expect(response.headers[.setCookie] == nil)
            let body = String(buffer: response.body)
            #expect(body.contains(#"name="token""#))
            #expect(body.contains("not the console token"))
        }
    }

    @Test func theRightTokenSignsInWithASessionCookieThatOpensThePage() async throws {
        try await Self.application().test(.router) { client in
            let response = try await client.execute(
                uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "token=\(Self.token)"))
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/")
            let cookie = try #require(response.headers[.setCookie])
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("SameSite=Strict"))
            #expect(!cookie.contains(Self.token))
            let pair = String(cookie.prefix { $0 != ";" })
            let page = try await client.execute(uri: "/", method: .get, headers: [.cookie: pair])
            #expect(page.status == .ok)
            #expect(String(buffer: page.body).contains("/static/console.js"))
            #expect(page.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
        }
    }

    @Test func aForeignOriginIsRefusedEvenWithTheToken() async throws {
        try await Self.application().test(.router) { client in
            let headers: HTTPFields = [
                .authorization: "Bearer \(Self.token)", .origin: "http://evil.example",
                .contentType: "application/json",
            ]
            for path in ["/api/queues/q1/dead-letters/purge", "/api/queues/q1/dead-letters/replay", "/login"] {
                let response = try await client.execute(
                    uri: path, method: .post, headers: headers, body: ByteBuffer(string: #"{"confirm":"q1"}"#))
                #expect(response.status == .forbidden, "\(path)")
            }
        }
    }

    @Test func onlyTheConsolesQueuesCanBeOperated() async throws {
        try await Self.application().test(.router) { client in
            let response = try await client.execute(
                uri: "/api/queues/someone_elses_queue/dead-letters/purge", method: .post,
                headers: [.authorization: "Bearer \(Self.token)", .contentType: "application/json"],
                body: ByteBuffer(string: #"{"confirm":"someone_elses_queue"}"#))
            #expect(response.status == .notFound)
            let unconfirmed = try await client.execute(
                uri: "/api/queues/q1/dead-letters/purge", method: .post,
                headers: [.authorization: "Bearer \(Self.token)", .contentType: "application/json"],
                body: ByteBuffer(string: #"{"confirm":"q2"}"#))
            #expect(unconfirmed.status == .badRequest)
        }
    }

    /// The router ignores empty path segments, so `//api/...` reaches the API's routes: the API's
    /// guard must hold there too (it is the group's, not a prefix test on the path).
    @Test func theAPIRefusesStrangersHoweverThePathIsSpelled() async throws {
        try await Self.application().test(.router) { client in
            for uri in ["/api/overview", "//api/overview", "/api//overview", "//api/queues/q1/dead-letters"] {
                let response = try await client.execute(uri: uri, method: .get)
                #expect(response.status == .unauthorized || response.status == .notFound, "\(uri)")
                #expect(response.status != .ok, "\(uri)")
            }
            for uri in ["//api/queues/q1/dead-letters/purge", "/api/queues/q1/dead-letters/purge"] {
                let response = try await client.execute(
                    uri: uri, method: .post, headers: [.contentType: "application/json"],
                    body: ByteBuffer(string: #"{"confirm":"q1"}"#))
                #expect(response.status == .unauthorized, "\(uri)")
                // The spelling does reach the route: with the token it gets the route's own answer.
                let signed = try await client.execute(
                    uri: uri, method: .post,
                    headers: [.authorization: "Bearer \(Self.token)", .contentType: "application/json"],
                    body: ByteBuffer(string: #"{"confirm":"other"}"#))
                #expect(signed.status == .badRequest, "\(uri)")
            }
        }
    }

    /// A state change carrying the session cookie but no `Origin` is not the page's: 403. The same
    /// request with the bearer token (a script, curl) needs no `Origin`.
    @Test func aCookieSignedStateChangeMustNameItsOrigin() async throws {
        try await Self.application().test(.router) { client in
            let signIn = try await client.execute(
                uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "token=\(Self.token)"))
            let cookie = String(try #require(signIn.headers[.setCookie]).prefix { $0 != ";" })
            let unconfirmed = ByteBuffer(string: #"{"confirm":"other"}"#)
            let noOrigin = try await client.execute(
                uri: "/api/queues/q1/dead-letters/purge", method: .post,
                headers: [.cookie: cookie, .contentType: "application/json"], body: unconfirmed)
            #expect(noOrigin.status == .forbidden)
            // With the bearer token the request gets past the guard (and fails its own check: 400).
            let bearer = try await client.execute(
                uri: "/api/queues/q1/dead-letters/purge", method: .post,
                headers: [.authorization: "Bearer \(Self.token)", .contentType: "application/json"], body: unconfirmed)
            #expect(bearer.status == .badRequest)
        }
    }
}
