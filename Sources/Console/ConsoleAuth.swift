import Crypto
import FlowKit
import Foundation

/// Who may use the console: the holder of `CONSOLE_TOKEN`, signed in with a session cookie or
/// sending `Authorization: Bearer <token>`; and which state-changing requests are refused because
/// they come from another site.
///
/// The session cookie is stateless, `<expiry>.<HMAC-SHA256(token, "console-session:<expiry>")>`, so
/// it holds across console processes and restarts and becomes invalid when the token changes. The
/// token itself is never in the cookie, never logged, and is compared in constant time.
public struct ConsoleAuth: Sendable {
    public static let cookieName = "console_session"
    /// How long a sign-in lasts.
    public static let sessionLifetime: TimeInterval = 12 * 3600

    /// The shortest `CONSOLE_TOKEN` the console starts with.
    public static let minimumTokenLength = 16

    private let token: [UInt8]
    private let key: SymmetricKey
    /// Whether the cookie carries `Secure` (`CONSOLE_SECURE_COOKIE`: the console is reached over TLS).
    public let secureCookie: Bool

    public init(token: String, secureCookie: Bool = false) {
        self.secureCookie = secureCookie
        self.token = Array(token.utf8)
        self.key = SymmetricKey(data: SHA256.hash(data: Array("decode-async console session".utf8) + self.token))
    }

    /// Whether `candidate` is the token; the time taken depends on neither's content.
    public func isToken(_ candidate: String) -> Bool {
        SecretComparison.equals(candidate.utf8, self.token)
    }

    /// A new session value valid until `now + sessionLifetime`.
    public func sessionValue(now: Date = Date()) -> String {
        let expiry = Int64(now.timeIntervalSince1970 + Self.sessionLifetime)
        return "\(expiry).\(self.mac(expiry))"
    }

    /// Whether a session value was made with this token and has not expired.
    public func isValidSession(_ value: String, now: Date = Date()) -> Bool {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let expiry = Int64(parts[0]), Double(expiry) > now.timeIntervalSince1970 else {
            return false
        }
        return SecretComparison.equals(parts[1].utf8, self.mac(expiry).utf8)
    }

    private func mac(_ expiry: Int64) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Array("console-session:\(expiry)".utf8), using: self.key)
        return code.map { String(format: "%02x", $0) }.joined()
    }

    /// The `Set-Cookie` value that signs in.
    public func signInCookie(now: Date = Date()) -> String {
        "\(Self.cookieName)=\(self.sessionValue(now: now)); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(Int(Self.sessionLifetime))"
            + (self.secureCookie ? "; Secure" : "")
    }

    /// The `Set-Cookie` value that signs out.
    public static let signOutCookie = "\(cookieName)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"

    /// ``signOutCookie``, with `Secure` when the sign-in cookie has it (a browser lets only a secure
    /// response replace a `Secure` cookie).
    public var signOutCookieValue: String {
        Self.signOutCookie + (self.secureCookie ? "; Secure" : "")
    }

    /// Whether a request carries a valid session cookie or bearer token.
    public func isAuthorized(cookieHeader: String?, authorization: String?, now: Date = Date()) -> Bool {
        if let authorization, authorization.count > 7, authorization.prefix(7).lowercased() == "bearer " {
            return self.isToken(String(authorization.dropFirst(7)))
        }
        guard let session = Self.cookie(named: Self.cookieName, in: cookieHeader) else { return false }
        return self.isValidSession(session, now: now)
    }

    /// The value of a cookie in a `Cookie` header (`a=1; b=2`).
    static func cookie(named name: String, in header: String?) -> String? {
        guard let header else { return nil }
        for pair in header.split(separator: ";") {
            let trimmed = pair.trimmingCharacters(in: .whitespaces)
            guard let equals = trimmed.firstIndex(of: "=") else { continue }
            if trimmed[..<equals] == name {
                return String(trimmed[trimmed.index(after: equals)...])
            }
        }
        return nil
    }

    /// Whether a state-changing request may proceed: without an `Origin` header (not a browser, or a
    /// same-origin navigation of an old browser), or with one whose host and port are the request's
    /// own `Host`. A foreign origin, or `null`, is refused.
    public static func isSameOrigin(origin: String?, host: String?) -> Bool {
        guard let origin else { return true }
        guard let host, !host.isEmpty else { return false }
        for scheme in ["http://", "https://"] where origin.lowercased().hasPrefix(scheme) {
            let rest = origin.dropFirst(scheme.count)
            return rest.lowercased() == host.lowercased()
        }
        return false
    }
}
