import NIOCore

/// The commands the client sends (RFC 5321 section 4.1, RFC 3207 STARTTLS, RFC 4954 AUTH).
public enum SMTPCommand: Sendable, Equatable {
    case ehlo(String)
    case helo(String)
    case startTLS
    /// `AUTH <mechanism> [initial-response]`; the response is base64 and may hold credentials.
    case auth(mechanism: String, initialResponse: String?)
    /// A base64 line answering a 334 challenge; it may hold credentials.
    case authResponse(String)
    /// `MAIL FROM:<address> [parameters]`.
    case mailFrom(String, parameters: [String])
    case rcptTo(String)
    case data
    case rset
    case noop
    case quit

    /// Writes the command and its CRLF.
    public func write(into buffer: inout ByteBuffer) {
        switch self {
        case .ehlo(let domain): buffer.writeString("EHLO \(domain)")
        case .helo(let domain): buffer.writeString("HELO \(domain)")
        case .startTLS: buffer.writeString("STARTTLS")
        case .auth(let mechanism, let initial):
            buffer.writeString("AUTH \(mechanism)")
            if let initial {
                buffer.writeString(" \(initial)")
            }
        case .authResponse(let line): buffer.writeString(line)
        case .mailFrom(let address, let parameters):
            buffer.writeString("MAIL FROM:<\(address)>")
            for parameter in parameters {
                buffer.writeString(" \(parameter)")
            }
        case .rcptTo(let address): buffer.writeString("RCPT TO:<\(address)>")
        case .data: buffer.writeString("DATA")
        case .rset: buffer.writeString("RSET")
        case .noop: buffer.writeString("NOOP")
        case .quit: buffer.writeString("QUIT")
        }
        buffer.writeString("\r\n")
    }

    /// A log-safe name: the verb, never an AUTH response.
    public var verb: String {
        switch self {
        case .ehlo: "EHLO"
        case .helo: "HELO"
        case .startTLS: "STARTTLS"
        case .auth(let mechanism, _): "AUTH \(mechanism)"
        case .authResponse: "AUTH response"
        case .mailFrom: "MAIL FROM"
        case .rcptTo: "RCPT TO"
        case .data: "DATA"
        case .rset: "RSET"
        case .noop: "NOOP"
        case .quit: "QUIT"
        }
    }
}
