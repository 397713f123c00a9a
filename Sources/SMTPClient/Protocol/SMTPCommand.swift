import NIOCore

/// The commands the client sends (RFC 5321 section 4.1, RFC 3207 STARTTLS, RFC 4954 AUTH).
public enum SMTPCommand: Sendable, Equatable {
    /// `EHLO <domain>`: greets the server and asks for its extensions.
    case ehlo(String)
    /// `HELO <domain>`: the plain greeting, for servers that refuse EHLO.
    case helo(String)
    /// `STARTTLS`: upgrade the connection to TLS; EHLO is sent again afterwards.
    case startTLS
    /// `AUTH <mechanism> [initial-response]`; the response is base64 and may hold credentials.
    case auth(mechanism: String, initialResponse: String?)
    /// A base64 line answering a 334 challenge; it may hold credentials.
    case authResponse(String)
    /// `MAIL FROM:<address> [parameters]`.
    case mailFrom(String, parameters: [String])
    /// `RCPT TO:<address>`: one envelope recipient.
    case rcptTo(String)
    /// `DATA`: the content follows after a 354 reply.
    case data
    /// `RSET`: abandons the current transaction, keeping the session.
    case rset
    /// `NOOP`: checks that the connection is alive.
    case noop
    /// `QUIT`: ends the session; the server closes the connection.
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
