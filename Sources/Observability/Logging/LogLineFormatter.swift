import Foundation
import JSONText
import Logging

/// Turns one log event into one line of text, in logfmt or JSON.
///
/// Pure and allocation-light so it can be tested without a process-wide logging bootstrap.
/// Newlines in messages and values are escaped, so one event is always exactly one line.
public struct LogLineFormatter: Sendable {
    /// The format lines are written in.
    public var format: LogFormat

    /// Creates a formatter for `format`.
    public init(format: LogFormat) {
        self.format = format
    }

    /// Formats one event. `metadata` is written in key order so lines are stable.
    public func format(
        timestamp: Date,
        level: Logger.Level,
        label: String,
        message: String,
        metadata: Logger.Metadata
    ) -> String {
        let time = Self.timestamp(timestamp)
        let keys = metadata.keys.sorted()
        switch self.format {
        case .logfmt:
            var line = "time=\(time) level=\(level.rawValue) logger=\(Self.logfmtValue(label))"
            line += " msg=\(Self.logfmtValue(message))"
            for key in keys {
                guard let value = metadata[key] else { continue }
                line += " \(Self.logfmtKey(key))=\(Self.logfmtValue(Self.flatten(value)))"
            }
            return line
        case .json:
            var line = "{\"time\":\(JSONText.quoted(time)),\"level\":\(JSONText.quoted(level.rawValue))"
            line += ",\"logger\":\(JSONText.quoted(label)),\"msg\":\(JSONText.quoted(message))"
            for key in keys where !Self.reservedJSONKeys.contains(key) {
                guard let value = metadata[key] else { continue }
                line += ",\(JSONText.quoted(key)):\(Self.jsonValue(value))"
            }
            line += "}"
            return line
        }
    }

    private static let reservedJSONKeys: Set<String> = ["time", "level", "logger", "msg"]

    // MARK: Timestamps

    static func timestamp(_ date: Date) -> String {
        date.formatted(
            Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
        )
    }

    // MARK: logfmt

    static func logfmtKey(_ key: String) -> String {
        String(key.map { $0 == " " || $0 == "=" || $0 == "\"" || $0.isNewline ? "_" : $0 })
    }

    static func logfmtValue(_ value: String) -> String {
        let needsQuotes =
            value.isEmpty
            || value.contains {
                $0 == " " || $0 == "=" || $0 == "\"" || $0 == "\\" || $0.isNewline || ($0.asciiValue ?? 0x20) < 0x20
            }
        // Quoted values use the JSON string escapes, so a line never breaks.
        return needsQuotes ? JSONText.quoted(value) : value
    }

    static func flatten(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let string): return string
        case .stringConvertible(let convertible): return convertible.description
        case .array(let array): return "[" + array.map(flatten).joined(separator: ",") + "]"
        case .dictionary(let dictionary):
            return "{"
                + dictionary.keys.sorted().map { "\($0):\(flatten(dictionary[$0] ?? .string("")))" }
                .joined(separator: ",") + "}"
        }
    }

    // MARK: JSON

    static func jsonValue(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let string): return JSONText.quoted(string)
        case .stringConvertible(let convertible): return JSONText.quoted(convertible.description)
        case .array(let array): return "[" + array.map(jsonValue).joined(separator: ",") + "]"
        case .dictionary(let dictionary):
            let members = dictionary.keys.sorted().map { key in
                "\(JSONText.quoted(key)):\(jsonValue(dictionary[key] ?? .string("")))"
            }
            return "{" + members.joined(separator: ",") + "}"
        }
    }
}
