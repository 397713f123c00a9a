import Foundation

/// A message to send: envelope, headers and a text part with an optional HTML alternative.
///
/// Header values are checked when the message is encoded: CR, LF or NUL in any of them is refused
/// (header injection), as are invalid header names.
public struct SMTPMessage: Sendable {
    public var from: SMTPAddress
    /// Shown before the sender address (`Decode <noreply@decode.network>`); RFC 2047 encoded when needed.
    public var fromName: String?
    public var to: [SMTPAddress]
    public var subject: String
    public var text: String
    public var html: String?
    public var date: Date
    /// Without angle brackets; generated as `<uuid>@<sender domain>` when nil.
    public var messageID: String?
    /// More headers (name, value), e.g. `X-Request-ID`.
    public var headers: [(name: String, value: String)]

    public init(
        from: SMTPAddress,
        fromName: String? = nil,
        to: [SMTPAddress],
        subject: String,
        text: String,
        html: String? = nil,
        date: Date = Date(),
        messageID: String? = nil,
        headers: [(name: String, value: String)] = []
    ) {
        self.from = from
        self.fromName = fromName
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.date = date
        self.messageID = messageID
        self.headers = headers
    }
}
