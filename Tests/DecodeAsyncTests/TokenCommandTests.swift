import Configuration
import Foundation
import NotificationService
import SocketIO
import Testing

@testable import DecodeAsync

@Suite("decode-async token")
struct TokenCommandTests {
    static let user = "665f1c2e9b1d4a0012345678"

    func settings(_ environment: [String: String]) -> AccessTokenSettings {
        var settings = SettingsReader(
            reader: ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: environment)))
        return AccessTokenSettings(&settings)
    }

    @Test func mintedTokenPassesTheServiceVerifierWithConfiguredClaims() throws {
        let settings = self.settings([
            "JWT_ACCESS_TOKEN_SECRET": "dev-secret", "JWT_ISSUER": "issuer-x", "JWT_AUDIENCE": "audience-y",
        ])
        let token = TokenCommand.token(userID: Self.user, lifetime: TokenLifetime(seconds: 60), settings: settings)
        let verifier = AccessTokenVerifier(secret: "dev-secret", issuer: "issuer-x", audience: "audience-y")
        #expect(try verifier.userID(from: token) == Self.user)
        #expect(throws: AccessTokenVerifier.Refusal.invalidToken) {
            try AccessTokenVerifier(secret: "dev-secret").userID(from: token)
        }
    }

    @Test func mintedTokenExpiresAfterItsLifetime() throws {
        let settings = self.settings(["JWT_ACCESS_TOKEN_SECRET": "dev-secret"])
        let now = Date()
        let token = TokenCommand.token(
            userID: Self.user, lifetime: TokenLifetime(seconds: 120), settings: settings, now: now)
        let verifier = AccessTokenVerifier(secret: "dev-secret")
        #expect(try verifier.userID(from: token, now: now.addingTimeInterval(119)) == Self.user)
        #expect(throws: AccessTokenVerifier.Refusal.invalidToken) {
            try verifier.userID(from: token, now: now.addingTimeInterval(121))
        }
    }

    @Test func defaultsMatchTheNotificationService() {
        let settings = self.settings([:])
        #expect(settings.secret == "")
        #expect(settings.issuer == "decode-auth-service")
        #expect(settings.audience == "decode-frontend")
    }

    @Test(arguments: [("90", 90), ("90s", 90), ("15m", 900), ("1h", 3_600), ("7d", 604_800), ("30d", 2_592_000)])
    func lifetimeParsesUnits(text: String, seconds: Int) {
        #expect(TokenLifetime(argument: text)?.seconds == seconds)
    }

    @Test(arguments: ["", "h", "0", "0s", "-5m", "1.5h", "31d", "1y", "1hh", "١h"])
    func lifetimeRefusesNonsense(text: String) {
        #expect(TokenLifetime(argument: text) == nil)
    }

    @Test func userIDMustBeAnObjectID() {
        #expect(TokenCommand.isObjectID(Self.user))
        #expect(TokenCommand.isObjectID("665F1C2E9B1D4A0012345678"))
        #expect(!TokenCommand.isObjectID("665f1c2e9b1d4a001234567"))
        #expect(!TokenCommand.isObjectID("665f1c2e9b1d4a001234567g"))
        #expect(!TokenCommand.isObjectID("alice"))
    }
}
