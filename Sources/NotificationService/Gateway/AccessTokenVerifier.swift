import Crypto
import Foundation
import SocketIO

/// Verifies access tokens at Socket.IO CONNECT as the original gateway does (COMPAT.md 3.4): HS256
/// pinned (any other `alg`, `none` included, is refused), `exp` required and in the future, issuer
/// `decode-auth-service`, audience `decode-frontend`, and a string `user_id` claim. Failures carry the
/// original's error code and message.
///
/// HMAC-SHA-256 comes from swift-crypto directly rather than jwt-kit: the auth service signs with
/// `JWT_ACCESS_TOKEN_SECRET` whatever its length, and jwt-kit traps (in debug builds) on secrets
/// shorter than 32 bytes.
public struct AccessTokenVerifier: Sendable {
    /// A refusal with the original's `error.code` and `error.message` (``SocketIOClientError/tokenRequired``,
    /// ``SocketIOClientError/invalidToken``, ``SocketIOClientError/noUserID``).
    public typealias Refusal = SocketIOClientError

    private let key: SymmetricKey?
    private let issuer: String
    private let audience: String

    /// The issuer the auth service signs with.
    public static let defaultIssuer = "decode-auth-service"
    /// The audience the auth service signs for.
    public static let defaultAudience = "decode-frontend"

    /// An empty secret refuses every token, as the original does.
    public init(secret: String, issuer: String = Self.defaultIssuer, audience: String = Self.defaultAudience) {
        self.key = secret.isEmpty ? nil : SymmetricKey(data: Data(secret.utf8))
        self.issuer = issuer
        self.audience = audience
    }

    /// The token from `Authorization: Bearer <t>` first, then the CONNECT auth payload's `token`.
    public static func token(authorizationHeader: String?, auth: JSONValue?) -> String? {
        if let header = authorizationHeader, header.hasPrefix("Bearer ") {
            let token = header.dropFirst("Bearer ".count).trimmingCharacters(in: .whitespaces)
            if !token.isEmpty { return token }
        }
        if let token = auth?["token"]?.stringValue, !token.isEmpty {
            return token
        }
        return nil
    }

    /// Returns the user id of a valid token.
    ///
    /// - Throws: ``Refusal``: no token; a bad signature, another algorithm, expired, wrong issuer or
    ///   audience (`INVALID_TOKEN` / `Invalid authentication token`); no `user_id` (`No user ID in token`).
    public func userID(from token: String?, now: Date = Date()) throws(Refusal) -> String {
        guard let token, !token.isEmpty else { throw .tokenRequired }
        guard let key = self.key else { throw .invalidToken }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = Self.base64URL(parts[0]), let payloadData = Self.base64URL(parts[1]),
            let signature = Self.base64URL(parts[2])
        else { throw .invalidToken }
        guard let header = try? JSONDecoder().decode(Header.self, from: headerData), header.alg == "HS256" else {
            throw .invalidToken
        }
        let signed = Data("\(parts[0]).\(parts[1])".utf8)
        guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signed, using: key) else {
            throw .invalidToken
        }
        guard let claims = try? JSONDecoder().decode(Claims.self, from: payloadData),
            let exp = claims.exp, Date(timeIntervalSince1970: exp) > now,
            claims.iss == self.issuer, claims.aud?.values.contains(self.audience) == true
        else { throw .invalidToken }
        guard let userID = claims.userID, !userID.isEmpty else { throw .noUserID }
        return userID
    }

    private struct Header: Decodable {
        var alg: String
    }

    private struct Claims: Decodable {
        var exp: Double?
        var iss: String?
        var aud: Audience?
        var userID: String?

        enum CodingKeys: String, CodingKey {
            case exp, iss, aud
            case userID = "user_id"
        }
    }

    /// `aud` is a string or an array of strings (RFC 7519 4.1.3).
    private struct Audience: Decodable {
        var values: [String]

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let single = try? container.decode(String.self) {
                self.values = [single]
            } else {
                self.values = try container.decode([String].self)
            }
        }
    }

    static func base64URL(_ text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}

/// The original gateway's refusals (COMPAT.md 3.4).
extension SocketIOClientError {
    public static let tokenRequired = SocketIOClientError(
        code: "AUTHENTICATION_REQUIRED", message: "Authentication token is required")
    public static let invalidToken = SocketIOClientError(code: "INVALID_TOKEN", message: "Invalid authentication token")
    public static let noUserID = SocketIOClientError(code: "INVALID_TOKEN", message: "No user ID in token")
    public static let connectionError = SocketIOClientError(
        code: "CONNECTION_ERROR", message: "Failed to establish connection")
}
