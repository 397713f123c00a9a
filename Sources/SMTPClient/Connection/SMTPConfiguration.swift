import NIOSSL

/// Where and how to reach the SMTP server, and how the pool behaves.
public struct SMTPConfiguration: Sendable {
    /// The relay's host name (checked against its certificate) or IP address.
    public var host: String
    /// 587 (STARTTLS), 465 (implicit TLS) or 25.
    public var port: Int
    /// STARTTLS required (default), opportunistic, none, or implicit TLS.
    public var tlsMode: SMTPSessionSettings.TLSMode
    /// Used for STARTTLS and implicit TLS. Its `certificateVerification` decides whether the
    /// server's certificate and host name are checked (`SMTP_TLS_VERIFY`).
    public var tls: TLSConfiguration
    /// AUTH login; nil: no AUTH.
    public var credentials: SMTPCredentials?
    /// The name sent in EHLO/HELO.
    public var clientName: String
    /// Longest wait for the TCP connection.
    public var connectTimeout: Duration
    /// Longest wait for each reply (greeting, EHLO, AUTH, MAIL, RCPT, DATA, RSET, QUIT, the TLS handshake).
    public var commandTimeout: Duration
    /// Longest wait for the reply to the end of the message content.
    public var dataTimeout: Duration
    /// Connections open at once (each carries one transaction at a time).
    public var maxConnections: Int
    /// Messages sent over one connection before it is closed and replaced.
    public var maxMessagesPerConnection: Int
    /// An unused connection older than this is closed.
    public var idleTimeout: Duration
    /// Send UTF-8 parts as 8bit when the server offers 8BITMIME (quoted-printable otherwise).
    public var use8BitMIME = true

    /// Defaults: STARTTLS required, certificates verified, 5 connections of up to 100 messages,
    /// 30 s per reply (120 s for the end of DATA), 30 s idle.
    public init(
        host: String,
        port: Int,
        tlsMode: SMTPSessionSettings.TLSMode = .startTLSRequired,
        verifyCertificates: Bool = true,
        credentials: SMTPCredentials? = nil,
        clientName: String = "localhost",
        connectTimeout: Duration = .seconds(10),
        commandTimeout: Duration = .seconds(30),
        dataTimeout: Duration = .seconds(120),
        maxConnections: Int = 5,
        maxMessagesPerConnection: Int = 100,
        idleTimeout: Duration = .seconds(30)
    ) {
        self.host = host
        self.port = port
        self.tlsMode = tlsMode
        var tls = TLSConfiguration.makeClientConfiguration()
        if !verifyCertificates {
            tls.certificateVerification = .none
        }
        self.tls = tls
        self.credentials = credentials
        self.clientName = clientName
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.dataTimeout = dataTimeout
        self.maxConnections = max(1, maxConnections)
        self.maxMessagesPerConnection = max(1, maxMessagesPerConnection)
        self.idleTimeout = idleTimeout
    }

    var sessionSettings: SMTPSessionSettings {
        SMTPSessionSettings(clientName: self.clientName, tls: self.tlsMode, credentials: self.credentials)
    }

    /// Whether the host is an IP literal (no SNI and no host name check against it).
    var hostIsIPAddress: Bool {
        self.host.contains(":")
            || (self.host.split(separator: ".").count == 4 && self.host.allSatisfy { $0.isNumber || $0 == "." })
    }
}
