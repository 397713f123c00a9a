import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The console's HTTP surface (docs/console.md): the sign-in form, the page and its static files,
/// and the JSON API under `/api/`.
///
/// - `GET /login`, `POST /login` (form field `token`), `POST /logout`.
/// - `GET /` and `GET /static/<file>`: the page (plain HTML, CSS, JavaScript from the binary's
///   resources). Without a session, `/` redirects to `/login`.
/// - `/api/...`: JSON, with the session cookie or `Authorization: Bearer <token>`; 401 otherwise.
///
/// A request whose `Host` is not one the console is known by is answered 421 (``ConsoleHostPolicy``),
/// and every POST with an `Origin` header that is not the request's own origin is refused with 403,
/// before anything else is looked at. Wrong tokens are throttled per client address
/// (``SignInThrottle``).
public struct ConsoleRoutes: Sendable {
    let auth: ConsoleAuth
    let data: ConsoleData
    let assets: ConsoleAssets
    let logger: Logger
    let hosts: ConsoleHostPolicy
    let throttle: SignInThrottle

    /// `hosts`: the `Host` names answered (by default the loopback names on any port).
    public init(
        token: String, data: ConsoleData, logger: Logger,
        hosts: ConsoleHostPolicy = ConsoleHostPolicy(bindHost: "127.0.0.1", port: 0), secureCookie: Bool = false,
        throttle: SignInThrottle = SignInThrottle()
    ) throws {
        self.auth = ConsoleAuth(token: token, secureCookie: secureCookie)
        self.data = data
        self.assets = try ConsoleAssets.load()
        self.logger = logger
        self.hosts = hosts
        self.throttle = throttle
    }

    public func register<Context: RequestContext>(on router: Router<Context>) {
        router.add(middleware: ConsoleGuard<Context>(auth: self.auth, hosts: self.hosts))
        router.get("login") { _, _ in
            self.assets.page(self.assets.loginPage(), status: .ok)
        }
        router.post("login") { request, context in
            try await self.signIn(request, address: Self.clientAddress(context))
        }
        router.post("logout") { _, _ in
            Response(status: .seeOther, headers: [.location: "/login", .setCookie: self.auth.signOutCookieValue])
        }
        router.get("/") { request, _ in
            guard self.isAuthorized(request) else {
                return Response(status: .seeOther, headers: [.location: "/login"])
            }
            return self.assets.page(self.assets.index, status: .ok)
        }
        router.get("static/:file") { _, context in
            self.assets.staticFile(context.parameters.get("file") ?? "")
        }
        // The API's own guard: it runs for every route of the group however the path is spelled
        // (the router ignores empty segments, so `//api/...` reaches these routes too).
        let api = router.group("api").add(
            middleware: ConsoleAPIGuard<Context>(auth: self.auth, throttle: self.throttle))
        api.get("overview") { _, _ in
            Self.json(await self.data.overview())
        }
        api.get("queues/:queue/dead-letters") { request, context in
            let queue = context.parameters.get("queue") ?? ""
            let query = request.uri.queryParameters
            let page = query["page"].flatMap { Int(String($0)) } ?? 1
            let size = min(100, max(1, query["page_size"].flatMap { Int(String($0)) } ?? 20))
            return try await self.answer {
                Self.json(try await self.data.deadLetterPage(queue: queue, page: page, pageSize: size))
            }
        }
        api.get("queues/:queue/dead-letters/letter") { request, context in
            let queue = context.parameters.get("queue") ?? ""
            let id = request.uri.queryParameters["id"].map(String.init) ?? ""
            return try await self.answer {
                guard let letter = try await self.data.deadLetter(queue: queue, id: id) else {
                    return Self.error(.notFound, "no dead letter \(id) in \(queue).dlq")
                }
                return Self.json(letter)
            }
        }
        api.post("queues/:queue/dead-letters/replay") { request, context in
            let queue = context.parameters.get("queue") ?? ""
            return try await self.answer {
                let body = try await Self.decode(LetterSelection.self, request)
                guard body.all == true || !(body.ids ?? []).isEmpty else {
                    return Self.error(.badRequest, "give {\"ids\": [...]} or {\"all\": true}")
                }
                let ids = body.all == true ? nil : Set(body.ids ?? [])
                return Self.json(["replayed": try await self.data.replay(queue: queue, ids: ids)])
            }
        }
        api.post("queues/:queue/dead-letters/delete") { request, context in
            let queue = context.parameters.get("queue") ?? ""
            return try await self.answer {
                let body = try await Self.decode(LetterSelection.self, request)
                guard let ids = body.ids, !ids.isEmpty else { return Self.error(.badRequest, "give {\"ids\": [...]}") }
                return Self.json(["deleted": try await self.data.delete(queue: queue, ids: Set(ids))])
            }
        }
        api.post("queues/:queue/dead-letters/purge") { request, context in
            let queue = context.parameters.get("queue") ?? ""
            return try await self.answer {
                let body = try await Self.decode(PurgeConfirmation.self, request)
                guard body.confirm == queue else {
                    return Self.error(.badRequest, "confirm with {\"confirm\": \"\(queue)\"}")
                }
                return Self.json(["purged": try await self.data.purge(queue: queue)])
            }
        }
        api.post("graph/check") { _, _ in
            try await self.answer { Self.json(try await self.data.runCheck(fix: false)) }
        }
        api.post("graph/fix") { _, _ in
            try await self.answer { Self.json(try await self.data.runCheck(fix: true)) }
        }
    }

    struct LetterSelection: Decodable {
        var ids: [String]?
        var all: Bool?
    }

    struct PurgeConfirmation: Decodable {
        var confirm: String?
    }

    func isAuthorized(_ request: Request) -> Bool {
        self.auth.isAuthorized(cookieHeader: request.headers[.cookie], authorization: request.headers[.authorization])
    }

    /// The client's IP address (the proxy's, behind a proxy: `X-Forwarded-For` is not trusted), or
    /// `unknown` when the context does not know it.
    static func clientAddress<Context: RequestContext>(_ context: Context) -> String {
        (context as? any RemoteAddressRequestContext)?.remoteAddress?.ipAddress ?? "unknown"
    }

    /// 429 with `Retry-After`: too many wrong tokens from one address.
    static func tooManyAttempts(retryAfter seconds: Int) -> Response {
        var response = Self.error(.tooManyRequests, "too many wrong tokens; try again in \(seconds) s")
        response.headers[.retryAfter] = String(seconds)
        return response
    }

    func signIn(_ request: Request, address: String) async throws -> Response {
        if let seconds = self.throttle.retryAfter(address: address) {
            self.logger.notice("console: sign-in throttled", metadata: ["client": "\(address)"])
            var page = self.assets.page(
                self.assets.loginPage(error: "Too many wrong tokens. Try again in \(seconds) s."),
                status: .tooManyRequests)
            page.headers[.retryAfter] = String(seconds)
            return page
        }
        let body = try await request.body.collect(upTo: 16_384)
        let token = Self.formField("token", in: String(buffer: body))
        guard let token, self.auth.isToken(token) else {
            self.throttle.recordFailure(address: address)
            self.logger.notice("console: sign-in refused", metadata: ["client": "\(address)"])
            return self.assets.page(
                self.assets.loginPage(error: "That is not the console token."), status: .unauthorized)
        }
        self.throttle.recordSuccess(address: address)
        self.logger.info("console: signed in")
        return Response(status: .seeOther, headers: [.location: "/", .setCookie: self.auth.signInCookie()])
    }

    /// A field of an `application/x-www-form-urlencoded` body.
    static func formField(_ name: String, in body: String) -> String? {
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { continue }
            let key = parts[0].replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            if key == name {
                return parts[1].replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            }
        }
        return nil
    }

    /// Runs a handler, answering a known failure with its status and message.
    func answer(_ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let error as ConsoleError {
            switch error {
            case .unknownQueue: return Self.error(.notFound, error.description)
            case .graphUnavailable: return Self.error(.serviceUnavailable, error.description)
            case .checkRunning: return Self.error(.conflict, error.description)
            }
        } catch let error as ConsoleRequestError {
            return Self.error(.badRequest, error.message)
        } catch is NIOTooManyBytesError {
            return Self.error(.contentTooLarge, "the body is over \(Self.maxBodyBytes) bytes")
        } catch {
            self.logger.warning("console: request failed", metadata: ["error": "\(error)"])
            return Self.error(.badGateway, "\(error)")
        }
    }

    /// The largest JSON body the API reads (1 MiB); a longer one is answered 413.
    static let maxBodyBytes = 1 << 20

    static func decode<Body: Decodable>(_ type: Body.Type, _ request: Request) async throws -> Body {
        let body = try await request.body.collect(upTo: Self.maxBodyBytes)
        do {
            return try JSONDecoder().decode(type, from: Data(body.readableBytesView))
        } catch {
            throw ConsoleRequestError(message: "the body must be JSON")
        }
    }

    static func json<Body: Encodable>(_ body: Body, _ status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(body)) ?? Data(#"{"message":"not encodable","statusCode":500}"#.utf8)
        return Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        struct Failure: Encodable {
            var statusCode: Int
            var message: String
        }
        return self.json(Failure(statusCode: status.code, message: message), status)
    }
}

struct ConsoleRequestError: Error {
    var message: String
}

/// Answers a request for another host name with 421 (DNS rebinding), and refuses a state-changing
/// request from another origin (403), on every console route.
struct ConsoleGuard<Context: RequestContext>: RouterMiddleware {
    let auth: ConsoleAuth
    let hosts: ConsoleHostPolicy

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard self.hosts.allows(host: request.head.authority) else {
            return ConsoleRoutes.error(.misdirectedRequest, "this console does not answer for that host name")
        }
        if request.method != .get, request.method != .head {
            let host = request.head.authority
            guard ConsoleAuth.isSameOrigin(origin: request.headers[.origin], host: host) else {
                return ConsoleRoutes.error(.forbidden, "cross-origin request refused")
            }
        }
        return try await next(request, context)
    }
}

/// The API's guard, on the `api` group: a request without a session or bearer token gets 401; a
/// state change signed in by the session cookie must also name its origin (a browser always sends
/// `Origin` with a POST; a request that carries the cookie without one is not the page's).
///
/// A wrong bearer token counts as a wrong sign-in (``SignInThrottle``): while an address is
/// throttled its bearer requests get 429 without the token being compared.
struct ConsoleAPIGuard<Context: RequestContext>: RouterMiddleware {
    let auth: ConsoleAuth
    let throttle: SignInThrottle

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let authorization = request.headers[.authorization]
        if let authorization, authorization.count > 7, authorization.prefix(7).lowercased() == "bearer " {
            let address = ConsoleRoutes.clientAddress(context)
            if let seconds = self.throttle.retryAfter(address: address) {
                return ConsoleRoutes.tooManyAttempts(retryAfter: seconds)
            }
            if self.auth.isAuthorized(cookieHeader: nil, authorization: authorization) {
                self.throttle.recordSuccess(address: address)
                return try await next(request, context)
            }
            self.throttle.recordFailure(address: address)
        }
        guard self.auth.isAuthorized(cookieHeader: request.headers[.cookie], authorization: nil) else {
            return ConsoleRoutes.error(.unauthorized, "sign in, or send Authorization: Bearer <CONSOLE_TOKEN>")
        }
        if request.method != .get, request.method != .head, request.headers[.origin] == nil {
            return ConsoleRoutes.error(.forbidden, "a signed-in state change must come from the console's page")
        }
        return try await next(request, context)
    }
}
