import NotificationService

/// How access tokens are signed and checked (`JWT_ACCESS_TOKEN_SECRET`, `JWT_ISSUER`, `JWT_AUDIENCE`):
/// read by the notification service to verify tokens and by `decode-async token` to mint them.
struct AccessTokenSettings: Equatable {
    static let defaultIssuer = AccessTokenVerifier.defaultIssuer
    static let defaultAudience = AccessTokenVerifier.defaultAudience

    /// Empty when unset: the service then refuses every token.
    var secret: String
    var issuer: String
    var audience: String

    init(_ settings: inout SettingsReader) {
        self.secret = settings.string("JWT_ACCESS_TOKEN_SECRET", secret: true) ?? ""
        self.issuer = settings.string("JWT_ISSUER", default: Self.defaultIssuer) ?? Self.defaultIssuer
        self.audience = settings.string("JWT_AUDIENCE", default: Self.defaultAudience) ?? Self.defaultAudience
    }
}
