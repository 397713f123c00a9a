import Foundation

/// A message to send: envelope, headers and a text part with an optional HTML alternative.
///
/// Header values are checked when the message is encoded: CR, LF or NUL in any of them is refused
/// (header injection), as are invalid header names.
public struct SMTPMessage: Sendable {
    /// The envelope sender (MAIL FROM) and the `From` address.
    public var from: SMTPAddress
    /// Shown before the sender address (`Decode <noreply@decode.network>`); RFC 2047 encoded when needed.
    public var fromName: String?
    /// The recipients (RCPT TO and `To`).
    public var to: [SMTPAddress]
    /// Any Unicode; RFC 2047 encoded when it is not short printable ASCII.
    public var subject: String
    /// The plain-text part.
    public var text: String
    /// The HTML alternative; nil for a text-only message.
    public var html: String?
    /// The `Date` header.
    public var date: Date
    /// Without angle brackets; generated as `<uuid>@<sender domain>` when nil.
    public var messageID: String?
    /// More headers (name, value), e.g. `X-Request-ID`.
    public var headers: [(name: String, value: String)]

    /// A message; nothing is checked until it is encoded.
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
