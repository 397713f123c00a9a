/// What the server announced in its EHLO reply (RFC 5321 section 4.1.1.1): one keyword per line,
/// with parameters. A server that only answered HELO has none.
public struct SMTPCapabilities: Sendable, Equatable {
    /// Upper-cased keyword → its parameters.
    public var extensions: [String: [String]]

    /// Capabilities from a keyword table (upper-cased keywords); none by default, as after HELO.
    public init(extensions: [String: [String]] = [:]) {
        self.extensions = extensions
    }

    /// Reads the lines after the first (which greets with the server's name).
    public init(ehloReply reply: SMTPReply) {
        var extensions: [String: [String]] = [:]
        for line in reply.lines.dropFirst() {
            let words = line.split(separator: " ").map(String.init)
            guard let keyword = words.first else { continue }
            // Old servers announce `AUTH=LOGIN PLAIN`.
            if keyword.uppercased().hasPrefix("AUTH=") {
                let first = String(keyword.dropFirst(5))
                extensions["AUTH", default: []] += ([first] + words.dropFirst()).map { $0.uppercased() }
                continue
            }
            let name = keyword.uppercased()
            let parameters = Array(words.dropFirst())
            extensions[name, default: []] += name == "AUTH" ? parameters.map { $0.uppercased() } : parameters
        }
        self.extensions = extensions
    }

    /// Whether the server announced `keyword` (compared case-insensitively).
    public func supports(_ keyword: String) -> Bool { self.extensions[keyword.uppercased()] != nil }

    /// Whether the server offers STARTTLS (RFC 3207).
    public var startTLS: Bool { self.supports("STARTTLS") }
    /// Whether the server accepts pipelined commands (RFC 2920).
    public var pipelining: Bool { self.supports("PIPELINING") }
    /// Whether the server accepts 8-bit bodies (`BODY=8BITMIME`, RFC 6152).
    public var eightBitMIME: Bool { self.supports("8BITMIME") }
    /// The `SIZE` limit in bytes; nil when not announced or announced as 0 (no limit).
    public var sizeLimit: Int? {
        guard let value = self.extensions["SIZE"]?.first, let limit = Int(value), limit > 0 else { return nil }
        return limit
    }
    /// Whether the server announced the `SIZE` extension (RFC 1870), with or without a limit.
    public var sizeAnnounced: Bool { self.supports("SIZE") }
    /// Upper-cased AUTH mechanisms.
    public var authMechanisms: Set<String> { Set(self.extensions["AUTH"] ?? []) }
}
