/// Quoted-printable (RFC 2045 6.7) for UTF-8 text: lines of at most 76 characters with soft breaks,
/// `=XX` for `=`, non-ASCII and control bytes, and for a space or tab that ends a line.
enum QuotedPrintable {
    static let maximumLineLength = 76

    static func encode(lines: [String]) -> [String] {
        lines.flatMap(self.encode(line:))
    }

    /// One source line, as one or more encoded lines (all but the last ending with a soft break `=`).
    static func encode(line: String) -> [String] {
        let bytes = Array(line.utf8)
        var output: [String] = []
        var current = ""
        for (index, byte) in bytes.enumerated() {
            let isLast = index == bytes.count - 1
            let token: String
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"):
                token = isLast ? Self.hex(byte) : String(UnicodeScalar(byte))
            case 33...60, 62...126:
                token = String(UnicodeScalar(byte))
            default:
                token = Self.hex(byte)
            }
            // Room for the token plus the soft break `=` unless this is the line's last token.
            let limit = isLast ? Self.maximumLineLength : Self.maximumLineLength - 1
            if current.utf8.count + token.utf8.count > limit {
                output.append(current + "=")
                current = ""
            }
            current += token
        }
        output.append(current)
        return output
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return "=" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0x0F)])
    }
}
