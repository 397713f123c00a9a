import Foundation

/// A server address (`host:port`), as URIs and routing tables give them.
public struct BoltAddress: Sendable, Hashable, CustomStringConvertible {
    /// The server's host name or IP address (without brackets for IPv6).
    public var host: String
    /// The server's Bolt port; default 7687.
    public var port: Int

    /// Creates an address; the port defaults to Bolt's 7687.
    public init(host: String, port: Int = 7687) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` (a routing table entry); `[v6]:port` too.
    public init?(_ string: String) {
        guard let colon = string.lastIndex(of: ":"), let port = Int(string[string.index(after: colon)...]) else {
            return nil
        }
        var host = String(string[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }

    /// `host:port`, with an IPv6 host in brackets, as routing tables write it.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// How to reach Neo4j: parsed from `bolt://`, `bolt+s://`, `bolt+ssc://` (one server) or
/// `neo4j://`, `neo4j+s://`, `neo4j+ssc://` (a cluster or Aura, through a routing table).
/// `+s` verifies the server certificate, `+ssc` accepts a self-signed one.
public struct BoltConfiguration: Sendable {
    /// Whether and how the connection uses TLS.
    public enum Security: Sendable, Equatable {
        /// Plain TCP (`bolt://`, `neo4j://`).
        case plain
        /// TLS; `verifyCertificate` is `true` for `+s` schemes and `false` for `+ssc` (self-signed accepted).
        case tls(verifyCertificate: Bool)
    }

    /// The server of a `bolt` URI, or the router asked first for a `neo4j` URI's routing table.
    public var address: BoltAddress
    /// TLS from the URI's scheme: plain, `+s` (verified certificate) or `+ssc` (any certificate).
    public var security: Security
    /// Whether to route through `ROUTE` (the `neo4j` schemes).
    public var routing: Bool
    /// The URI's query parameters, sent as the routing context.
    public var routingContext: [String: String]
    /// The user to log in as (basic authentication).
    public var username: String
    /// Never logged or printed.
    public var password: String
    /// nil: the server's default (home) database.
    public var database: String?
    /// Sent as `user_agent` in HELLO (and as `bolt_agent` product from 5.3); shown in the server's logs.
    public var userAgent: String
    /// How long connecting and the version handshake may take before the attempt fails; default 5 s.
    public var connectTimeout: Duration
    /// How long one request may wait for its answer before the connection is closed.
    public var requestTimeout: Duration
    /// Connections per server.
    public var maximumConnectionsPerServer: Int
    /// An idle connection unused longer than this is checked with RESET before it is handed out.
    public var livenessCheckAfter: Duration
    /// Records fetched per PULL.
    public var fetchSize: Int64
    /// Offer Bolt 5.0-5.4 besides 4.4; turn off to pin 4.4.
    public var allowBolt5: Bool

    /// Parses a `bolt[+s|+ssc]://` or `neo4j[+s|+ssc]://` URI; the other settings start at their defaults.
    /// - Parameters:
    ///   - uri: The server, its scheme deciding TLS and routing; a query is the routing context (`neo4j` only).
    ///   - username: The user to log in as.
    ///   - password: The user's password.
    ///   - database: The database to use; `nil` for the server's default.
    ///   - userAgent: The name the server shows for this client.
    /// - Throws: ``BoltError`` `invalidURI` for an unknown scheme, no host, or a query on a `bolt` URI.
    public init(
        uri: String,
        username: String,
        password: String,
        database: String? = nil,
        userAgent: String = "decode-async/0.1"
    ) throws(BoltError) {
        guard let components = URLComponents(string: uri), let scheme = components.scheme?.lowercased() else {
            throw BoltError(.invalidURI, "not a URI")
        }
        switch scheme {
        case "bolt": (self.routing, self.security) = (false, .plain)
        case "bolt+s": (self.routing, self.security) = (false, .tls(verifyCertificate: true))
        case "bolt+ssc": (self.routing, self.security) = (false, .tls(verifyCertificate: false))
        case "neo4j": (self.routing, self.security) = (true, .plain)
        case "neo4j+s": (self.routing, self.security) = (true, .tls(verifyCertificate: true))
        case "neo4j+ssc": (self.routing, self.security) = (true, .tls(verifyCertificate: false))
        default:
            throw BoltError(
                .invalidURI, "unsupported scheme '\(scheme)' (bolt, bolt+s, bolt+ssc, neo4j, neo4j+s, neo4j+ssc)")
        }
        guard let host = components.host, !host.isEmpty else { throw BoltError(.invalidURI, "no host") }
        self.address = BoltAddress(host: host, port: components.port ?? 7687)
        var context: [String: String] = [:]
        for item in components.queryItems ?? [] {
            context[item.name] = item.value ?? ""
        }
        if !self.routing, !context.isEmpty {
            throw BoltError(.invalidURI, "a routing context (query) needs a neo4j:// scheme")
        }
        self.routingContext = context
        self.username = username
        self.password = password
        self.database = database
        self.userAgent = userAgent
        self.connectTimeout = .seconds(5)
        self.requestTimeout = .seconds(30)
        self.maximumConnectionsPerServer = 10
        self.livenessCheckAfter = .seconds(30)
        self.fetchSize = 1000
        self.allowBolt5 = true
    }

    /// The basic-auth token of HELLO (4.4, 5.0) or LOGON (5.1+).
    var authToken: [String: BoltValue] {
        ["scheme": "basic", "principal": .string(self.username), "credentials": .string(self.password)]
    }
}

extension BoltConfiguration: CustomStringConvertible, CustomDebugStringConvertible {
    /// The server as a URI with the password masked (`neo4j+s://neo4j:***@host:7687`, and the
    /// database when one is named), safe for logs, also when the whole configuration is interpolated.
    public var description: String {
        var scheme = self.routing ? "neo4j" : "bolt"
        if case .tls(let verify) = self.security {
            scheme += verify ? "+s" : "+ssc"
        }
        let database = self.database.map { " database \($0)" } ?? ""
        return "\(scheme)://\(self.username):***@\(self.address)\(database)"
    }

    /// The same as ``description``: the password never appears.
    public var debugDescription: String { self.description }
}
