/// JSON string literals, written the one way the project writes them: `"`, `\` and the control
/// characters escaped (`\n`, `\r`, `\t` by name, the others as `\u00xx` with lowercase hex), every
/// other character as it is (non-ASCII, DEL, U+2028 and U+2029 included, which JSON allows
/// unescaped). Used by the Socket.IO payloads and the JSON and logfmt log lines.
public enum JSONText {
    /// `string` as a quoted JSON string literal.
    public static func quoted(_ string: String) -> String {
        var out = ""
        out.reserveCapacity(string.utf8.count + 2)
        self.appendQuoted(string, to: &out)
        return out
    }

    /// Appends `string` as a quoted JSON string literal to `out`.
    public static func appendQuoted(_ string: String, to out: inout String) {
        out += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
