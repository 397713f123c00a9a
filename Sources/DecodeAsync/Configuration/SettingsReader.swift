import Configuration
import Foundation

/// Reads typed settings from a `ConfigReader` by their environment variable names, collecting every
/// problem (instead of stopping at the first) and every effective value for `decode-async config`.
struct SettingsReader {
    /// Where an effective value came from.
    enum Source: String {
        case environment = "env"
        case defaultValue = "default"
        case unset
    }

    /// One effective setting, already masked when secret.
    struct Entry: Equatable {
        var variable: String
        var shownValue: String
        var source: Source
    }

    private let reader: ConfigReader
    private(set) var errors: [ConfigurationError] = []
    private(set) var entries: [Entry] = []

    init(reader: ConfigReader) {
        self.reader = reader
    }

    /// The raw value; an empty string counts as unset.
    private func raw(_ variable: String, secret: Bool) -> String? {
        guard let value = self.reader.string(forKey: ConfigKey(variable), isSecret: secret), !value.isEmpty else {
            return nil
        }
        return value
    }

    private mutating func record(_ variable: String, _ value: String?, source: Source, secret: Bool) {
        let shown: String
        switch value {
        case .none: shown = ""
        case .some(let value) where secret: shown = value.isEmpty ? "" : SecretMasking.mask
        case .some(let value): shown = SecretMasking.maskURICredentials(value)
        }
        self.entries.append(Entry(variable: variable, shownValue: shown, source: source))
    }

    private mutating func fail(_ variable: String, value: String?, secret: Bool, expected: String) {
        let problem: ConfigurationError.Problem
        if let value {
            let shown = secret ? SecretMasking.mask : SecretMasking.maskURICredentials(value)
            problem = .invalid(shownValue: shown)
        } else {
            problem = .missing
        }
        self.errors.append(ConfigurationError(variable: variable, problem: problem, expected: expected))
    }

    /// Records a value that passed the basic checks but that a client refuses (e.g. a URI parameter).
    /// A `secret` value is shown masked.
    mutating func invalid(_ variable: String, value: String, secret: Bool = false, expected: String) {
        self.fail(variable, value: value, secret: secret, expected: expected)
    }

    // MARK: Typed reads

    /// A string with an optional default; `nil` when unset and without default.
    mutating func string(_ variable: String, default defaultValue: String? = nil, secret: Bool = false) -> String? {
        if let value = self.raw(variable, secret: secret) {
            self.record(variable, value, source: .environment, secret: secret)
            return value
        }
        self.record(variable, defaultValue, source: defaultValue == nil ? .unset : .defaultValue, secret: secret)
        return defaultValue
    }

    /// A string that must be set.
    mutating func requiredString(_ variable: String, secret: Bool = false, expected: String) -> String {
        guard let value = self.string(variable, secret: secret) else {
            self.fail(variable, value: nil, secret: secret, expected: expected)
            return ""
        }
        return value
    }

    /// An integer within `range`.
    mutating func int(_ variable: String, default defaultValue: Int, range: ClosedRange<Int>, expected: String) -> Int {
        guard let text = self.raw(variable, secret: false) else {
            self.record(variable, String(defaultValue), source: .defaultValue, secret: false)
            return defaultValue
        }
        self.record(variable, text, source: .environment, secret: false)
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
            self.fail(variable, value: text, secret: false, expected: expected)
            return defaultValue
        }
        return value
    }

    /// A TCP or UDP port.
    mutating func port(_ variable: String, default defaultValue: Int) -> Int {
        self.int(variable, default: defaultValue, range: 1...65535, expected: "a port number from 1 to 65535")
    }

    /// A boolean: `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, in any case.
    mutating func bool(_ variable: String, default defaultValue: Bool) -> Bool {
        guard let text = self.raw(variable, secret: false) else {
            self.record(variable, String(defaultValue), source: .defaultValue, secret: false)
            return defaultValue
        }
        self.record(variable, text, source: .environment, secret: false)
        switch text.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default:
            self.fail(variable, value: text, secret: false, expected: "true or false")
            return defaultValue
        }
    }

    /// One of a fixed set of words (a `String` raw-value enum).
    mutating func choice<Value: RawRepresentable & CaseIterable>(
        _ variable: String,
        default defaultValue: Value
    ) -> Value where Value.RawValue == String {
        guard let text = self.raw(variable, secret: false) else {
            self.record(variable, defaultValue.rawValue, source: .defaultValue, secret: false)
            return defaultValue
        }
        self.record(variable, text, source: .environment, secret: false)
        guard let value = Value(rawValue: text.lowercased()) else {
            let words = Value.allCases.map(\.rawValue).joined(separator: ", ")
            self.fail(variable, value: text, secret: false, expected: "one of \(words)")
            return defaultValue
        }
        return value
    }

    /// A URI whose scheme is one of `schemes` and that names a host; `nil` when unset and not required.
    mutating func uri(
        _ variable: String,
        default defaultValue: String? = nil,
        schemes: [String],
        required: Bool = false
    ) -> String? {
        let expected = "a URI starting with " + schemes.map { "\($0)://" }.joined(separator: ", ")
        guard let value = self.string(variable, default: defaultValue) else {
            if required {
                self.fail(variable, value: nil, secret: false, expected: expected)
            }
            return nil
        }
        guard Self.isValidURI(value, schemes: schemes) else {
            self.fail(variable, value: value, secret: false, expected: expected)
            return defaultValue
        }
        return value
    }

    /// Accepts `scheme://[userinfo@]host[:port][,host[:port]...][/path][?query]`, so MongoDB seed lists pass.
    static func isValidURI(_ value: String, schemes: [String]) -> Bool {
        guard let separator = value.range(of: "://") else { return false }
        let scheme = value[..<separator.lowerBound].lowercased()
        guard schemes.contains(scheme) else { return false }
        guard !value.contains(where: { $0.isWhitespace || $0.isNewline }) else { return false }
        let rest = value[separator.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        var hosts = rest[rest.startIndex..<authorityEnd]
        if let at = hosts.lastIndex(of: "@") {
            hosts = hosts[hosts.index(after: at)...]
        }
        guard !hosts.isEmpty else { return false }
        for host in hosts.split(separator: ",", omittingEmptySubsequences: false) {
            guard isValidHostPort(host) else { return false }
        }
        return true
    }

    private static func isValidHostPort(_ hostPort: Substring) -> Bool {
        var host = hostPort
        var portText: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { return false }
            host = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.lastIndex(of: ":") {
            portText = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        guard !host.isEmpty else { return false }
        if let portText {
            guard let port = Int(portText), (1...65535).contains(port) else { return false }
        }
        return true
    }
}
