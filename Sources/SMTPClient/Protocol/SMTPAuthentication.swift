import Crypto
import Foundation

/// The SASL mechanisms of RFC 4954 the client speaks: PLAIN (RFC 4616), LOGIN, CRAM-MD5 (RFC 2195).
enum SMTPAuthMechanism: String, Sendable, Equatable {
    case plain = "PLAIN"
    case login = "LOGIN"
    case cramMD5 = "CRAM-MD5"

    /// The mechanism to use among those offered: over TLS PLAIN first (one round trip), without TLS
    /// CRAM-MD5 first (the password never crosses the wire).
    static func choose(offered: Set<String>, tlsActive: Bool) -> SMTPAuthMechanism? {
        let preference: [SMTPAuthMechanism] = tlsActive ? [.plain, .login, .cramMD5] : [.cramMD5, .plain, .login]
        return preference.first { offered.contains($0.rawValue) }
    }

    static func plainResponse(_ credentials: SMTPCredentials) -> String {
        Data("\0\(credentials.user)\0\(credentials.password)".utf8).base64EncodedString()
    }

    static func base64(_ text: String) -> String {
        Data(text.utf8).base64EncodedString()
    }

    /// `base64(user SP hex(HMAC-MD5(password, challenge)))`; nil if the challenge is not base64.
    static func cramMD5Response(challenge: String, credentials: SMTPCredentials) -> String? {
        guard let decoded = Data(base64Encoded: challenge.trimmingCharacters(in: .whitespaces)) else { return nil }
        let key = SymmetricKey(data: Data(credentials.password.utf8))
        let mac = HMAC<Insecure.MD5>.authenticationCode(for: decoded, using: key)
        let hex = mac.map { String(format: "%02x", $0) }.joined()
        return base64("\(credentials.user) \(hex)")
    }
}
