/// What the state machine needs to know about the session it drives.
public struct SMTPSessionSettings: Sendable, Equatable {
    /// How TLS is used.
    public enum TLSMode: Sendable, Equatable {
        /// Never (tests against a plain local sink only).
        case none
        /// STARTTLS when the server offers it, plain otherwise.
        case startTLSIfOffered
        /// STARTTLS or fail (`SMTP_REQUIRE_TLS=true`, the default).
        case startTLSRequired
        /// TLS from the first byte (`SMTP_SECURE=true`, port 465).
        case implicit
    }

    /// The name sent in EHLO/HELO.
    public var clientName: String
    /// How TLS is used.
    public var tls: TLSMode
    /// Login; AUTH is skipped when nil or when the server offers no AUTH (as nodemailer does).
    public var credentials: SMTPCredentials?

    /// Creates settings for one session.
    public init(clientName: String, tls: TLSMode, credentials: SMTPCredentials?) {
        self.clientName = clientName
        self.tls = tls
        self.credentials = credentials
    }
}

/// A user name and password for AUTH. Its description hides the password.
public struct SMTPCredentials: Sendable, Equatable, CustomStringConvertible {
    /// The user name to log in with (AUTH PLAIN, LOGIN or CRAM-MD5).
    public var user: String
    /// The password to log in with; ``description`` masks it.
    public var password: String

    /// Creates credentials.
    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }

    /// The user name with the password masked, safe for logs.
    public var description: String { "\(self.user):********" }
}
