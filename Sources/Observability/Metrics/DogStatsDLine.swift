/// The DogStatsD wire format: `name:value|type|#tag:value,...`.
///
/// Pure functions, so the exact bytes an agent receives can be tested without a socket.
public enum DogStatsDLine {
    /// The metric types DogStatsD understands.
    public enum MetricType: String, Sendable {
        case counter = "c"
        case gauge = "g"
        case histogram = "h"
        case timer = "ms"
        case distribution = "d"
    }

    /// Formats one metric line.
    ///
    /// `name` is prefixed with `prefix`; characters DogStatsD reserves (`:`, `|`, `@`, `#`, `,`, whitespace)
    /// become `_` in names and tags, so a tag value can never split a line. Tags are `key:value`, written
    /// in the order given (global tags first).
    public static func format(
        prefix: String,
        name: String,
        value: String,
        type: MetricType,
        tags: [(String, String)]
    ) -> String {
        var line = sanitizeName(prefix + name)
        line += ":"
        line += value
        line += "|"
        line += type.rawValue
        if !tags.isEmpty {
            line += "|#"
            var first = true
            for (key, tagValue) in tags {
                if !first { line += "," }
                first = false
                line += sanitizeTag(key)
                if !tagValue.isEmpty {
                    line += ":"
                    line += sanitizeTag(tagValue)
                }
            }
        }
        return line
    }

    /// Formats an integer value.
    public static func value(_ integer: Int64) -> String {
        String(integer)
    }

    /// Formats a floating point value without exponent noise for integral values (`5`, not `5.0`).
    public static func value(_ double: Double) -> String {
        guard double.isFinite else { return "0" }
        if double == double.rounded(), abs(double) < 1e15 {
            return String(Int64(double))
        }
        return String(double)
    }

    /// Formats a duration given in nanoseconds as milliseconds, with microsecond precision.
    public static func milliseconds(fromNanoseconds nanoseconds: Int64) -> String {
        let micros = nanoseconds / 1000
        let whole = micros / 1000
        let fraction = abs(micros % 1000)
        guard fraction != 0 else { return String(whole) }
        var digits = String(fraction)
        digits = String(repeating: "0", count: 3 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        let sign = (nanoseconds < 0 && whole == 0) ? "-" : ""
        return "\(sign)\(whole).\(digits)"
    }

    static func sanitizeName(_ name: String) -> String {
        String(
            name.map { character in
                switch character {
                case ":", "|", "@", "#", ",": return "_"
                case _ where character.isWhitespace: return "_"
                default: return character
                }
            })
    }

    static func sanitizeTag(_ tag: String) -> String {
        String(
            tag.map { character in
                switch character {
                case "|", ",", "#": return "_"
                case _ where character.isWhitespace: return "_"
                default: return character
                }
            })
    }

    /// Packs lines into datagram payloads of at most `maxPayloadSize` bytes, joined by `\n`.
    ///
    /// A single line longer than the limit travels alone rather than being cut.
    public static func pack(_ lines: [String], maxPayloadSize: Int) -> [String] {
        var packets: [String] = []
        var current = ""
        var currentSize = 0
        for line in lines {
            let size = line.utf8.count
            if currentSize > 0, currentSize + 1 + size > maxPayloadSize {
                packets.append(current)
                current = ""
                currentSize = 0
            }
            if currentSize > 0 {
                current += "\n"
                currentSize += 1
            }
            current += line
            currentSize += size
        }
        if currentSize > 0 { packets.append(current) }
        return packets
    }
}
