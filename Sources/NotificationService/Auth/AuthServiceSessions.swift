import Crypto
import Foundation
import HTTPRequestClient
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
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

    /// The auth service's `http[s]://host[:port][/prefix]` as an endpoint and the path to post to.
    static func parse(_ base: String) -> (endpoint: HTTPRequestClient.Endpoint, path: String)? {
        guard let url = URL(string: base), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty
        else { return nil }
        let prefix = url.path.hasSuffix("/") ? String(url.path.dropLast()) : url.path
        return (.init(tls: scheme == "https", host: host, port: url.port), prefix + "/auth/info/by-access-token")
    }

    private let client: HTTPRequestClient
    private let path: String
    private let cacheLifetime: Duration
    private let cache = NIOLockedValueBox<[String: (userID: String, until: ContinuousClock.Instant)]>([:])
    private let logger: Logger

    public init?(
        baseURL: String, timeout: Duration = .seconds(5), cacheLifetime: Duration = .seconds(300),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger
    ) {
        guard let (endpoint, path) = Self.parse(baseURL) else { return nil }
        // The answer is a small JSON object; 1 MiB is far beyond any real one.
        self.client = HTTPRequestClient(endpoint: endpoint, timeout: timeout, bodyLimit: 1 << 20, group: group)
        self.path = path
        self.cacheLifetime = cacheLifetime
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
        let response = try await self.client.send(
            .POST, path: self.path, headers: ["Content-Type": "application/json"], body: Array(body.utf8))
        return (response.status, String(decoding: response.body, as: UTF8.self))
    }
}
