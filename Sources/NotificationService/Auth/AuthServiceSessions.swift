import Crypto
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import SocketIO

/// Confirms an access token's session with the auth service, as the original REST guard does
/// (COMPAT.md 3.3): `POST {AUTH_SERVICE_URL}/auth/info/by-access-token` with `{"access_token"}`,
/// accepted when the answer has `success: true` and `data`, the user being `data._id`. Accepted
/// tokens are cached for 5 minutes (keyed by the token's SHA-256, never the token itself).
public final class AuthServiceSessions: Sendable {
    /// Why the auth service did not confirm a session, with the original guard's answers.
    public enum Refusal: Error, Equatable, Sendable {
        /// The service answered `success: false`.
        case validationFailed
        /// The service answered HTTP 401.
        case expired
        /// Unreachable, timed out, or another HTTP error.
        case unavailable

        public var message: String {
            switch self {
            case .validationFailed: "Token validation failed"
            case .expired: "Invalid or expired access token"
            case .unavailable: "Authentication service unavailable"
            }
        }

        public var error: String {
            switch self {
            case .validationFailed: "VALIDATION_ERROR"
            case .expired: "TOKEN_EXPIRED"
            case .unavailable: "SERVICE_UNAVAILABLE"
            }
        }
    }

    struct Endpoint: Sendable {
        var tls: Bool
        var host: String
        var port: Int
        var path: String

        init?(_ base: String) {
            guard let url = URL(string: base), let scheme = url.scheme?.lowercased(),
                scheme == "http" || scheme == "https",
                let host = url.host, !host.isEmpty
            else { return nil }
            self.tls = scheme == "https"
            self.host = host
            self.port = url.port ?? (self.tls ? 443 : 80)
            let prefix = url.path.hasSuffix("/") ? String(url.path.dropLast()) : url.path
            self.path = prefix + "/auth/info/by-access-token"
        }
    }

    private let endpoint: Endpoint
    private let timeout: Duration
    private let cacheLifetime: Duration
    private let cache = NIOLockedValueBox<[String: (userID: String, until: ContinuousClock.Instant)]>([:])
    private let group: any EventLoopGroup
    private let logger: Logger

    public init?(
        baseURL: String, timeout: Duration = .seconds(5), cacheLifetime: Duration = .seconds(300),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger
    ) {
        guard let endpoint = Endpoint(baseURL) else { return nil }
        self.endpoint = endpoint
        self.timeout = timeout
        self.cacheLifetime = cacheLifetime
        self.group = group
        self.logger = logger
    }

    /// The check for sockets (COMPAT.md 3.3, DEFECT 13: the original skipped it): a refused session
    /// gets `INVALID_TOKEN`, an unreachable auth service `CONNECTION_ERROR`.
    public var socketCheck: NotificationGateway.SessionCheck {
        { token, _ in
            switch await self.confirm(token: token) {
            case .success: return nil
            case .failure(.unavailable): return .connectionError
            case .failure: return .invalidToken
            }
        }
    }

    /// The session's user id, or why it is refused.
    public func confirm(token: String) async -> Result<String, Refusal> {
        let key = SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
        let now = ContinuousClock.now
        if let cached = self.cache.withLockedValue({ $0[key] }), cached.until > now {
            return .success(cached.userID)
        }
        let result = await self.ask(token)
        if case .success(let userID) = result {
            self.cache.withLockedValue { cache in
                if cache.count > 10_000 { cache = cache.filter { $0.value.until > now } }
                cache[key] = (userID, now + self.cacheLifetime)
            }
        }
        return result
    }

    private func ask(_ token: String) async -> Result<String, Refusal> {
        let body = JSONValue.object(["access_token": .string(token)]).text
        let response: (status: Int, body: String)
        do {
            response = try await self.post(body)
        } catch {
            self.logger.warning("auth service unavailable", metadata: ["error": "\(error)"])
            return .failure(.unavailable)
        }
        if response.status == 401 { return .failure(.expired) }
        guard (200..<300).contains(response.status) else { return .failure(.unavailable) }
        guard let answer = try? JSONValue.parse(Substring(response.body)) else { return .failure(.unavailable) }
        guard answer["success"] == .bool(true), let data = answer["data"], data != .null else {
            return .failure(.validationFailed)
        }
        guard let userID = data["_id"]?.stringValue else { return .failure(.validationFailed) }
        return .success(userID)
    }

    /// One `POST` over a new connection (`Connection: close`), bounded by the timeout.
    private func post(_ body: String) async throws -> (status: Int, body: String) {
        let endpoint = self.endpoint
        let promise = self.group.next().makePromise(of: (Int, String).self)
        let bootstrap = ClientBootstrap(group: self.group)
            .connectTimeout(TimeAmount(self.timeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if endpoint.tls {
                        let context = try NIOSSLContext(configuration: .makeClientConfiguration())
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: context, serverHostname: endpoint.host))
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: promise))
                }
            }
        let channel = try await bootstrap.connect(host: endpoint.host, port: endpoint.port).get()
        let timeout = channel.eventLoop.scheduleTask(in: TimeAmount(self.timeout)) {
            promise.fail(ChannelError.connectTimeout(TimeAmount(self.timeout)))
            channel.close(promise: nil)
        }
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: endpoint.path)
        head.headers.add(name: "Host", value: endpoint.host)
        head.headers.add(name: "Content-Type", value: "application/json")
        head.headers.add(name: "Content-Length", value: String(body.utf8.count))
        head.headers.add(name: "Connection", value: "close")
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(string: body))), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        defer {
            timeout.cancel()
            channel.close(promise: nil)
        }
        let (status, text) = try await promise.futureResult.get()
        return (status, text)
    }
}

/// Collects one HTTP response and completes the promise at its end (or fails it if the
/// connection closes first).
private final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<(Int, String)>
    private var status = 0
    private var body = ByteBuffer()

    init(promise: EventLoopPromise<(Int, String)>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.status = Int(head.status.code)
        case .body(var part):
            if self.body.readableBytes < 1 << 20 { self.body.writeBuffer(&part) }
        case .end:
            self.promise.succeed((self.status, String(buffer: self.body)))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.promise.fail(ChannelError.eof)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.promise.fail(error)
        context.close(promise: nil)
    }
}
