/// A configuration value that is missing or malformed, named by its environment variable.
///
/// Its description is one line that names the variable, shows the bad value (masked when it is a
/// secret) and says what is expected, e.g.
/// `SMTP_PORT="70000" is invalid: expected a port number from 1 to 65535`.
struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    enum Problem: Equatable {
        case missing
        case invalid(shownValue: String)
    }

    var variable: String
    var problem: Problem
    var expected: String

    var description: String {
        switch self.problem {
        case .missing:
            return "\(self.variable) is missing: expected \(self.expected)"
        case .invalid(let shownValue):
            return "\(self.variable)=\"\(shownValue)\" is invalid: expected \(self.expected)"
        }
    }
}

/// Every configuration problem found at start-up, one line each.
struct ConfigurationErrors: Error, CustomStringConvertible {
    var errors: [ConfigurationError]

    var description: String {
        self.errors.map(\.description).joined(separator: "\n")
    }
}
