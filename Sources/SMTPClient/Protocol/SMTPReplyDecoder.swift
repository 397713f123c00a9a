import NIOCore

/// Decodes SMTP replies from CRLF-terminated lines: `250-first`, `250-second`, `250 last` make one
/// ``SMTPReply``. Lines longer than ``maximumLineLength`` or without a valid code are protocol errors.
public struct SMTPReplyDecoder: NIOSingleStepByteToMessageDecoder {
    /// The decoder emits whole (possibly multi-line) replies.
    public typealias InboundOut = SMTPReply

    /// RFC 5321 allows 512 octets per reply line; real servers send a little more for long texts.
    public static let maximumLineLength = 4096
    /// Bounds the lines of one multi-line reply (EHLO answers have a few dozen at most).
    public static let maximumLines = 256

    private var pending: [String] = []
    private var pendingCode: Int?
    private var pendingEnhanced: String?

    /// A decoder with no partial reply.
    public init() {}

    /// The next complete reply, or nil when more bytes are needed.
    ///
    /// - Throws: ``SMTPError`` `.protocolViolation` for malformed or overlong lines.
    public mutating func decode(buffer: inout ByteBuffer) throws -> SMTPReply? {
        while true {
            guard let line = try Self.readLine(&buffer) else { return nil }
            if let reply = try self.lineReceived(line) {
                return reply
            }
        }
    }

    /// Decodes a reply left in the buffer when the input ends; a partial reply yields `nil`.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> SMTPReply? {
        try self.decode(buffer: &buffer)
    }

    private static func readLine(_ buffer: inout ByteBuffer) throws(SMTPError) -> String? {
        let view = buffer.readableBytesView
        guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
            if view.count > Self.maximumLineLength {
                throw SMTPError(.protocolViolation, "a reply line is longer than \(Self.maximumLineLength) bytes")
            }
            return nil
        }
        let length = newline - view.startIndex
        guard length <= Self.maximumLineLength else {
            throw SMTPError(.protocolViolation, "a reply line is longer than \(Self.maximumLineLength) bytes")
        }
        var bytes = buffer.readBytes(length: length + 1) ?? []
        bytes.removeLast()
        if bytes.last == UInt8(ascii: "\r") {
            bytes.removeLast()
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private mutating func lineReceived(_ line: String) throws(SMTPError) -> SMTPReply? {
        let utf8 = Array(line.utf8)
        guard utf8.count >= 3, utf8[0...2].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let code = Int(String(decoding: utf8[0...2], as: UTF8.self)), (200...599).contains(code)
        else {
            throw SMTPError(.protocolViolation, "malformed reply line")
        }
        let separator = utf8.count > 3 ? utf8[3] : UInt8(ascii: " ")
        guard separator == UInt8(ascii: " ") || separator == UInt8(ascii: "-") else {
            throw SMTPError(.protocolViolation, "malformed reply line")
        }
        if let pendingCode = self.pendingCode, pendingCode != code {
            throw SMTPError(.protocolViolation, "a multi-line reply changed its code from \(pendingCode) to \(code)")
        }
        let rest = line.dropFirst(min(4, line.count))
        let (enhanced, text) = SMTPReply.splitEnhancedCode(rest, code: code)
        if self.pendingCode == nil {
            self.pendingCode = code
            self.pendingEnhanced = enhanced
        }
        self.pending.append(String(text))
        guard self.pending.count <= Self.maximumLines else {
            throw SMTPError(.protocolViolation, "a multi-line reply has more than \(Self.maximumLines) lines")
        }
        guard separator == UInt8(ascii: " ") else { return nil }
        let reply = SMTPReply(code: code, enhancedCode: self.pendingEnhanced, lines: self.pending)
        self.pending = []
        self.pendingCode = nil
        self.pendingEnhanced = nil
        return reply
    }
}
