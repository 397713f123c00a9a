import ArgumentParser
import Foundation
import NotificationService

/// `decode-async token <user_id> [--ttl 1h]`: prints an access token signed as the auth service signs
/// them, with the configured `JWT_ACCESS_TOKEN_SECRET`, `JWT_ISSUER` and `JWT_AUDIENCE`, so the
/// notification service of the same configuration accepts it. For development and operations.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Print an access token for a user, signed with the configured JWT_ACCESS_TOKEN_SECRET.",
        discussion: """
            The token is HS256 with the claims the auth service sets (user_id, session_token, iat, exp, \
            iss from JWT_ISSUER, aud from JWT_AUDIENCE). Without JWT_ACCESS_TOKEN_SECRET the command \
            stops with exit status 78. With AUTH_SERVICE_URL set, the service also asks the auth \
            service about the session, which does not know a minted token.
            """
    )

    @Argument(help: "The user id: a MongoDB ObjectId, 24 hexadecimal characters.")
    var userID: String

    @Option(help: "How long the token is valid: seconds, or a number with s, m, h or d (1s to 30d).")
    var ttl: TokenLifetime = TokenLifetime(seconds: 3_600)

    func validate() throws {
        guard Self.isObjectID(self.userID) else {
            throw ValidationError("user id \"\(self.userID)\" is not an ObjectId (24 hexadecimal characters)")
        }
    }

    func run() async throws {
        var settings = SettingsReader(reader: try await ConfigurationSource.reader())
        let accessTokens = AccessTokenSettings(&settings)
        guard settings.errors.isEmpty, !accessTokens.secret.isEmpty else {
            let errors =
                settings.errors.isEmpty
                ? [
                    ConfigurationError(
                        variable: "JWT_ACCESS_TOKEN_SECRET", problem: .missing,
                        expected: "the secret the auth service signs access tokens with")
                ] : settings.errors
            for error in errors {
                printError("decode-async: configuration: \(error)")
            }
            throw ExitCode(78)
        }
        print(Self.token(userID: self.userID, lifetime: self.ttl, settings: accessTokens))
    }

    /// A token for `userID` valid for `lifetime` from `now`.
    static func token(
        userID: String, lifetime: TokenLifetime, settings: AccessTokenSettings, now: Date = Date()
    ) -> String {
        AccessTokenSigner(secret: settings.secret, issuer: settings.issuer, audience: settings.audience)
            .token(userID: userID, lifetime: .seconds(lifetime.seconds), now: now)
    }

    /// Whether `text` is 24 hexadecimal characters, as a MongoDB ObjectId.
    static func isObjectID(_ text: String) -> Bool {
        text.utf8.count == 24 && text.allSatisfy(\.isHexDigit)
    }
}

/// A token lifetime written `90`, `90s`, `15m`, `1h` or `7d`, from one second to 30 days.
struct TokenLifetime: ExpressibleByArgument, Equatable {
    static let maximumSeconds = 30 * 86_400

    var seconds: Int

    init(seconds: Int) {
        self.seconds = seconds
    }

    init?(argument: String) {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400]
        var digits = Substring(argument)
        var unit = 1
        if let last = argument.last, let multiplier = units[last] {
            digits = digits.dropLast()
            unit = multiplier
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
            let count = Int(digits), count > 0, count <= Self.maximumSeconds / unit
        else { return nil }
        self.seconds = count * unit
    }

    var defaultValueDescription: String {
        self.seconds % 3_600 == 0 ? "\(self.seconds / 3_600)h" : "\(self.seconds)s"
    }
}
