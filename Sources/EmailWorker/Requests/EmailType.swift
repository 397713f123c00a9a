/// The seven mails of the original email worker (COMPAT.md section 4), by their `type` on the wire.
public enum EmailType: String, Sendable, CaseIterable, Codable {
    case createAccount = "create-account"
    case welcomeMessage = "welcome-message"
    case fingerprintVerify = "fingerprint-verify"
    case forgotPasswordVerify = "forgot-password-verify"
    case usernameChangeVerify = "username-change-verify"
    case emailChangeVerify = "email-change-verify"
    case newEmailChangeVerify = "new-email-change-verify"

    /// Every type but the welcome mail carries a one-time code.
    public var requiresOTPCode: Bool { self != .welcomeMessage }
}
