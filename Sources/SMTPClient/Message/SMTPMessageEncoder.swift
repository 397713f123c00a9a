import Foundation
import NIOCore

/// Turns an ``SMTPMessage`` into RFC 5322 / MIME text with CRLF line endings: `Date`, `From`, `To`,
/// `Subject` (RFC 2047 when needed), `Message-ID`, `MIME-Version` and a `multipart/alternative` body
/// (or a single text part) in UTF-8, each part quoted-printable, or 8bit when the server takes
/// 8BITMIME and no line is longer than 998 bytes.
public enum SMTPMessageEncoder {
    /// The message as bytes (``SMTPDataEncoder`` dot-stuffs them for DATA), and whether any part is 8bit.
    ///
    /// - Parameters:
    ///   - message: The message to encode.
    ///   - allow8Bit: Whether the server announced 8BITMIME, so parts may be sent as 8bit.
    ///   - boundary: The MIME boundary; a random one by default (tests pass a fixed one).
    /// - Throws: ``SMTPError`` `.invalidMessage` for CR, LF or NUL in a header value or a bad header name.
    public static func encode(
        _ message: SMTPMessage,
        allow8Bit: Bool,
        boundary: String = "=_decode_" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
    ) throws(SMTPError) -> (bytes: [UInt8], eightBit: Bool) {
        try self.checkHeaderValue(message.subject, name: "Subject")
        try self.checkHeaderValue(message.fromName ?? "", name: "From")
        for (name, value) in message.headers {
            try self.checkHeaderName(name)
            try self.checkHeaderValue(value, name: name)
        }
        let messageID = message.messageID ?? "\(UUID().uuidString.lowercased())@\(message.from.domain)"
        try self.checkHeaderValue(messageID, name: "Message-ID")
        guard !message.to.isEmpty else { throw SMTPError(.invalidMessage, "the message has no recipient") }

        var lines: [String] = [
            "Date: \(RFC5322Date.format(message.date))",
            EncodedWord.fromHeader(name: message.fromName, address: message.from.address),
            "To: \(message.to.map(\.address).joined(separator: ", "))",
            EncodedWord.header(name: "Subject", value: message.subject),
            "Message-ID: <\(messageID)>",
        ]
        for (name, value) in message.headers {
            lines.append(EncodedWord.header(name: name, value: value))
        }
        lines.append("MIME-Version: 1.0")

        var eightBit = false
        let textPart = Self.part(message.text, subtype: "plain", allow8Bit: allow8Bit, used8Bit: &eightBit)
        var body: [String]
        if let html = message.html {
            let htmlPart = Self.part(html, subtype: "html", allow8Bit: allow8Bit, used8Bit: &eightBit)
            lines.append("Content-Type: multipart/alternative;\r\n boundary=\"\(boundary)\"")
            body = ["", "This is a multi-part message in MIME format.", "", "--\(boundary)"]
            body += textPart + ["", "--\(boundary)"] + htmlPart + ["", "--\(boundary)--"]
        } else {
            // A single part: its headers are the message's.
            let headerEnd = textPart.firstIndex(of: "") ?? textPart.count
            lines += textPart[..<headerEnd]
            body = Array(textPart[headerEnd...])
        }
        let text = (lines + body).joined(separator: "\r\n") + "\r\n"
        return (Array(text.utf8), eightBit)
    }

    /// A part's header lines, a blank line and its encoded body lines.
    static func part(_ content: String, subtype: String, allow8Bit: Bool, used8Bit: inout Bool) -> [String] {
        let sourceLines = Self.lines(of: content)
        let fits8Bit = sourceLines.allSatisfy { $0.utf8.count <= 998 }
        let isASCII = content.utf8.allSatisfy { $0 < 0x80 }
        var header = ["Content-Type: text/\(subtype); charset=utf-8"]
        let encoded: [String]
        if allow8Bit, fits8Bit {
            header.append("Content-Transfer-Encoding: \(isASCII ? "7bit" : "8bit")")
            used8Bit = used8Bit || !isASCII
            encoded = sourceLines
        } else {
            header.append("Content-Transfer-Encoding: quoted-printable")
            encoded = QuotedPrintable.encode(lines: sourceLines)
        }
        return header + [""] + encoded
    }

    /// Splits on LF, CRLF or a lone CR; a trailing newline does not add an empty line.
    static func lines(of text: String) -> [String] {
        let normalised = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        var lines = normalised.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.count > 1, lines.last == "" {
            lines.removeLast()
        }
        return lines
    }

    static func checkHeaderValue(_ value: String, name: String) throws(SMTPError) {
        if value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) {
            throw SMTPError(.invalidMessage, "the \(name) header contains CR, LF or NUL")
        }
    }

    static func checkHeaderName(_ name: String) throws(SMTPError) {
        guard !name.isEmpty, name.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && $0 != ":" }) else {
            throw SMTPError(.invalidMessage, "invalid header name")
        }
    }
}
