import Foundation

/// Hides secrets before a value is printed or logged.
enum SecretMasking {
    static let mask = "***"

    /// Replaces the password of a URI's user info with `***`
    /// (`amqp://guest:guest@host` → `amqp://guest:***@host`); other URIs are returned unchanged.
    static func maskURICredentials(_ uri: String) -> String {
        guard let schemeEnd = uri.range(of: "://") else { return uri }
        let authorityStart = schemeEnd.upperBound
        let rest = uri[authorityStart...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[authorityStart..<authorityEnd]
        guard let at = authority.lastIndex(of: "@") else { return uri }
        let userInfo = authority[authority.startIndex..<at]
        let maskedUserInfo: String
        if let colon = userInfo.firstIndex(of: ":") {
            maskedUserInfo = userInfo[userInfo.startIndex..<colon] + ":" + mask
        } else {
            // A single user-info part is a password for Redis (`redis://secret@host`).
            maskedUserInfo = mask
        }
        return String(uri[uri.startIndex..<authorityStart]) + maskedUserInfo + String(uri[at...])
    }
}
