import Foundation
import NIOSSL

/// How to reach a Redis server; parsed from `redis://` or `rediss://` URIs.
public struct RedisConfiguration: Sendable {
    /// The server's host name or IP address; default `localhost`.
    public var host: String
    /// The server's TCP port; default 6379.
    public var port: Int
    /// TLS settings for `rediss://`; `nil` for plain TCP.
    public var tls: TLSConfiguration?
    /// ACL user name (Redis 6+); nil logs in as `default`.
    public var username: String?
    /// Never logged.
    public var password: String?
    /// The logical database chosen with `SELECT` after connecting; default 0.
    public var database: Int
    /// How long opening the TCP connection may take; default 5 s.
    public var connectTimeout: Duration
    /// How long a command may wait for its reply before it fails with `timeout`; default 5 s.
    public var commandTimeout: Duration
    /// Connections used for commands (pipelined, round-robin).
    public var poolSize: Int
    /// The name given with `HELLO ... SETNAME`, shown by `CLIENT LIST`; default `decode-async`.
    public var clientName: String

    /// Creates a configuration; a `poolSize` below 1 counts as 1.
    public init(
        host: String = "localhost",
        port: Int = 6379,
        tls: TLSConfiguration? = nil,
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        connectTimeout: Duration = .seconds(5),
        commandTimeout: Duration = .seconds(5),
        poolSize: Int = 2,
        clientName: String = "decode-async"
    ) {
        self.host = host
        self.port = port
        self.tls = tls
        self.username = username
        self.password = password
        self.database = database
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.poolSize = max(1, poolSize)
        self.clientName = clientName
    }

    /// `redis[s]://[[user]:password@]host[:port][/db]`; a lone user-info part is a password.
    public init(uri: String) throws(RedisError) {
        guard let components = URLComponents(string: uri), let scheme = components.scheme?.lowercased(),
            scheme == "redis" || scheme == "rediss"
        else { throw RedisError(.invalidURI, "expected redis:// or rediss://") }
        guard let host = components.host, !host.isEmpty else { throw RedisError(.invalidURI, "no host") }
        self.init(host: host, port: components.port ?? 6379, tls: scheme == "rediss" ? .makeClientConfiguration() : nil)
        let user = components.percentEncodedUser.map { $0.removingPercentEncoding ?? $0 }
        let password = components.percentEncodedPassword.map { $0.removingPercentEncoding ?? $0 }
        switch (user, password) {
        case (let user?, let password?):
            self.username = user.isEmpty ? nil : user
            self.password = password
        case (let user?, nil):
            self.password = user
        default:
            break
        }
        let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        if !path.isEmpty {
            guard let database = Int(path), database >= 0 else {
                throw RedisError(.invalidURI, "the database must be a number")
            }
            self.database = database
        }
    }
}

extension RedisConfiguration: CustomStringConvertible, CustomDebugStringConvertible {
    /// The server as a URI with the password masked (`redis://:***@host:6379/0`), safe for logs,
    /// also when the whole configuration is interpolated.
    public var description: String {
        let scheme = self.tls == nil ? "redis" : "rediss"
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        let login = self.password == nil ? (self.username.map { "\($0)@" } ?? "") : "\(self.username ?? ""):***@"
        return "\(scheme)://\(login)\(host):\(self.port)/\(self.database)"
    }

    /// The same as ``description``: the password never appears.
    public var debugDescription: String { self.description }
}
