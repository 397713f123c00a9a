import Crypto
import Foundation
import SocketIO

/// Signs access tokens as the auth service does (HS256, `user_id`, `session_token`, `iss`, `aud`,
/// `iat`, `exp`), for development tools: the `token` command, the Socket.IO benchmark and tests.
/// Production tokens come from the auth service.
public struct AccessTokenSigner: Sendable {
    private let key: SymmetricKey
    private let issuer: String
    private let audience: String

    public init(
        secret: String, issuer: String = AccessTokenVerifier.defaultIssuer,
        audience: String = AccessTokenVerifier.defaultAudience
    ) {
        self.key = SymmetricKey(data: Data(secret.utf8))
        self.issuer = issuer
        self.audience = audience
    }

    /// A token for `userID` that expires `lifetime` from `now`.
    public func token(userID: String, lifetime: Duration = .seconds(900), now: Date = Date()) -> String {
        let issuedAt = Int(now.timeIntervalSince1970)
        let header = Self.base64URL(Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let claims = JSONValue.object([
            "user_id": .string(userID),
            "session_token": .string(UUID().uuidString),
            "iat": .number(Double(issuedAt)),
            "exp": .number(Double(issuedAt + Int(lifetime.components.seconds))),
            "iss": .string(self.issuer),
            "aud": .string(self.audience),
        ])
        let payload = Self.base64URL(Data(claims.text.utf8))
        let signature = HMAC<SHA256>.authenticationCode(for: Data("\(header).\(payload)".utf8), using: self.key)
        return "\(header).\(payload).\(Self.base64URL(Data(signature)))"
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
