/// One SMTP reply (RFC 5321 section 4.2): a three-digit code and one or more text lines, with the
/// RFC 3463 enhanced status code (`5.7.1`) when the server puts one at the start of the text.
public struct SMTPReply: Sendable, Equatable, CustomStringConvertible {
    /// The three-digit reply code.
    public var code: Int
    /// The enhanced status code of the first line (`class.subject.detail`), when present.
    public var enhancedCode: String?
    /// The text of every line, without the code, the separator and the enhanced code.
    public var lines: [String]

    /// Creates a reply from its code, enhanced code and text lines.
    public init(code: Int, enhancedCode: String? = nil, lines: [String]) {
        self.code = code
        self.enhancedCode = enhancedCode
        self.lines = lines
    }

    /// 2xx.
    public var isPositiveCompletion: Bool { (200..<300).contains(self.code) }
    /// 3xx: the server waits for more (DATA content, an AUTH response).
    public var isPositiveIntermediate: Bool { (300..<400).contains(self.code) }
    /// 4xx: try again later.
    public var isTransientFailure: Bool { (400..<500).contains(self.code) }
    /// 5xx: this will never work.
    public var isPermanentFailure: Bool { (500..<600).contains(self.code) }

    /// The lines joined by a space.
    public var text: String { self.lines.joined(separator: " ") }

    /// `550 5.1.1 user unknown`, as a log line or a dead letter's reason.
    public var description: String {
        var parts = [String(self.code)]
        if let enhancedCode = self.enhancedCode {
            parts.append(enhancedCode)
        }
        if !self.text.isEmpty {
            parts.append(self.text)
        }
        return parts.joined(separator: " ")
    }

    /// Splits a leading `x.y.z` enhanced status code off a reply line whose class matches the
    /// reply code's first digit (RFC 3463/RFC 2034).
    static func splitEnhancedCode(_ text: Substring, code: Int) -> (String?, Substring) {
        let classDigit = Character(String(code / 100))
        let token = text.prefix { $0 != " " }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 1, parts[0].first == classDigit,
            parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCIIDigit) })
        else { return (nil, text) }
        return (String(token), text.dropFirst(token.count).drop { $0 == " " })
    }
}

extension Character {
    var isASCIIDigit: Bool { self.isASCII && self.isNumber }
}
