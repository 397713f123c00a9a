import Foundation

/// One bare mailbox address (`local@domain`, RFC 5321 4.1.2 without source routes or display names).
///
/// Anything that could smuggle a command or header is refused: CR, LF, NUL, other control
/// characters, spaces, angle brackets, commas, quotes, and non-ASCII (no SMTPUTF8).
public struct SMTPAddress: Sendable, Hashable, CustomStringConvertible {
    /// The address as given (`local@domain`).
    public let address: String

    /// Checks `address` and wraps it.
    ///
    /// - Throws: ``SMTPError`` `.invalidMessage` saying what is wrong.
    public init(_ address: String) throws(SMTPError) {
        if let problem = Self.problem(address) {
            throw SMTPError(.invalidMessage, "invalid address: \(problem)")
        }
        self.address = address
    }

    /// The part after `@`.
    public var domain: String { String(self.address[self.address.index(after: self.at)...]) }
    /// The part before `@`.
    public var localPart: String { String(self.address[..<self.at]) }

    private var at: String.Index { self.address.lastIndex(of: "@") ?? self.address.startIndex }

    /// The bare address, as written in MAIL FROM and RCPT TO.
    public var description: String { self.address }

    /// Why `address` is not one bare address, or nil.
    public static func problem(_ address: String) -> String? {
        guard !address.isEmpty else { return "it is empty" }
        guard address.utf8.count <= 254 else { return "it is longer than 254 characters" }
        for scalar in address.unicodeScalars {
            if scalar.value < 0x21 || scalar.value == 0x7F {
                return scalar.value == 0x20 ? "it contains a space" : "it contains a control character"
            }
            guard scalar.isASCII else { return "it contains a non-ASCII character" }
            if "<>()[]\\,;:\"".unicodeScalars.contains(scalar) {
                return "it contains '\(scalar)'"
            }
        }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return "it must contain exactly one '@'" }
        let local = parts[0]
        let domain = parts[1]
        guard !local.isEmpty, local.utf8.count <= 64 else { return "the local part must have 1 to 64 characters" }
        guard !local.hasPrefix("."), !local.hasSuffix("."), !local.contains("..") else {
            return "the local part has a misplaced '.'"
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard !domain.isEmpty, labels.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 63 }) else {
            return "the domain is not a host name"
        }
        for label in labels {
            guard label.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }), !label.hasPrefix("-"),
                !label.hasSuffix("-")
            else { return "the domain is not a host name" }
        }
        return nil
    }
}

extension SMTPAddress {
    /// Reads a sender setting: `addr@example.org` or `Display Name <addr@example.org>`.
    ///
    /// - Throws: ``SMTPError`` `.invalidMessage` when the address is invalid or the name holds CR, LF or NUL.
    public static func mailbox(_ text: String) throws(SMTPError) -> (displayName: String?, address: SMTPAddress) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasSuffix(">"), let open = trimmed.lastIndex(of: "<") else {
            return (nil, try SMTPAddress(trimmed))
        }
        let address = try SMTPAddress(
            String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)]))
        var name = trimmed[..<open].trimmingCharacters(in: .whitespaces)
        if name.hasPrefix("\""), name.hasSuffix("\""), name.count >= 2 {
            name = String(name.dropFirst().dropLast())
        }
        try SMTPMessageEncoder.checkHeaderValue(name, name: "From")
        return (name.isEmpty ? nil : name, address)
    }
}
