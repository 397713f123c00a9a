import NIOCore

/// The DATA content on the wire (RFC 5321 4.5.2): CRLF line endings, a `.` doubled at the start of
/// every line that begins with one, and the terminating `CRLF . CRLF`.
public enum SMTPDataEncoder {
    /// The message's bytes as DATA content, terminator included.
    public static func content(_ message: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(message.count + message.count / 64 + 8)
        var atLineStart = true
        var index = 0
        while index < message.count {
            let byte = message[index]
            if byte == UInt8(ascii: "\r"), index + 1 < message.count, message[index + 1] == UInt8(ascii: "\n") {
                buffer.writeBytes([UInt8(ascii: "\r"), UInt8(ascii: "\n")])
                index += 2
                atLineStart = true
                continue
            }
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                // A bare LF or CR becomes CRLF.
                buffer.writeBytes([UInt8(ascii: "\r"), UInt8(ascii: "\n")])
                index += 1
                atLineStart = true
                continue
            }
            if atLineStart, byte == UInt8(ascii: ".") {
                buffer.writeInteger(UInt8(ascii: "."))
            }
            buffer.writeInteger(byte)
            atLineStart = false
            index += 1
        }
        if !atLineStart {
            buffer.writeString("\r\n")
        }
        buffer.writeString(".\r\n")
        return buffer
    }
}
