import Foundation

/// Header lines: plain when the value is short printable ASCII, otherwise RFC 2047 `B` encoded
/// words of at most 75 characters, split on character boundaries and folded onto continuation lines.
enum EncodedWord {
    static let maximumWordLength = 75

    static func header(name: String, value: String) -> String {
        let plain = value.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }
        if plain, name.count + 2 + value.utf8.count <= 78, !value.contains("=?") {
            return "\(name): \(value)"
        }
        return "\(name): " + self.words(value).joined(separator: "\r\n ")
    }

    /// `From: address`, `From: "Name" <address>`, or the name as encoded words when it is not plain ASCII.
    static func fromHeader(name: String?, address: String) -> String {
        guard let name, !name.isEmpty else { return "From: \(address)" }
        let plain = name.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "\\" }
        if plain, name.utf8.count <= 60, !name.contains("=?") {
            return "From: \"\(name)\" <\(address)>"
        }
        return "From: " + self.words(name).joined(separator: "\r\n ") + "\r\n <\(address)>"
    }

    /// `=?UTF-8?B?...?=` words; no character is split between two words.
    static func words(_ value: String) -> [String] {
        let prefix = "=?UTF-8?B?"
        let suffix = "?="
        // 75 - 12 = 63 base64 characters at most: 45 bytes of UTF-8 (a multiple of 3 keeps words padding-free).
        let maximumBytes = 45
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in value {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > maximumBytes, !chunk.isEmpty {
                words.append(prefix + Data(chunk).base64EncodedString() + suffix)
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty {
            words.append(prefix + Data(chunk).base64EncodedString() + suffix)
        }
        return words
    }
}

/// `Sun, 29 Nov 2026 20:15:00 +0000` (RFC 5322 3.3), always in UTC.
enum RFC5322Date {
    static func format(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let weekday = days[((parts.weekday ?? 1) - 1) % 7]
        let month = months[((parts.month ?? 1) - 1) % 12]
        func two(_ value: Int?) -> String {
            let value = value ?? 0
            return value < 10 ? "0\(value)" : "\(value)"
        }
        return "\(weekday), \(two(parts.day)) \(month) \(parts.year ?? 1970) "
            + "\(two(parts.hour)):\(two(parts.minute)):\(two(parts.second)) +0000"
    }
}
