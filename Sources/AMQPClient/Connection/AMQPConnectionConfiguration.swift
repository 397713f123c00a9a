import AMQPProtocol
import Foundation
import NIOCore
import NIOSSL

/// How to reach and log in to a broker; parsed from an `amqp://` or `amqps://` URI.
public struct AMQPConnectionConfiguration: Sendable {
    /// SASL mechanism used to log in.
    public enum AuthMechanism: String, Sendable {
        /// `PLAIN` (RFC 4616): user and password in one SASL response; RabbitMQ's default.
        case plain = "PLAIN"
        /// `AMQPLAIN`: user and password as a field table (a non-standard mechanism RabbitMQ also accepts).
        case amqplain = "AMQPLAIN"
    }

    /// The broker's host name or IP address; default `localhost`.
    public var host: String
    /// The broker's TCP port; default 5672, or 5671 with TLS.
    public var port: Int
    /// TLS for `amqps://`; `nil` for plain TCP.
    public var tls: TLSConfiguration?
    /// The user to log in as; default `guest` (which RabbitMQ only lets in from localhost).
    public var username: String
    /// The user's password; default `guest`; sent only in the SASL response.
    public var password: String
    /// The virtual host to open; default `/`.
    public var virtualHost: String
    /// How the credentials are sent; default `PLAIN`.
    public var authMechanism: AuthMechanism
    /// Requested heartbeat interval in seconds (0 disables); the broker may lower it.
    public var heartbeat: UInt16
    /// Requested largest frame in bytes; the broker may lower it.
    public var frameMax: UInt32
    /// Requested largest channel number; the broker may lower it.
    public var channelMax: UInt16
    /// How long connecting and the handshake may take.
    public var connectionTimeout: Duration
    /// Shown in the broker's management UI (`connection_name` client property).
    public var connectionName: String?

    /// A configuration with RabbitMQ's defaults (guest, vhost `/`, heartbeat 60 s, frame 128 KiB).
    public init(
        host: String = "localhost",
        port: Int? = nil,
        tls: TLSConfiguration? = nil,
        username: String = "guest",
        password: String = "guest",
        virtualHost: String = "/",
        authMechanism: AuthMechanism = .plain,
        heartbeat: UInt16 = 60,
        frameMax: UInt32 = 131_072,
        channelMax: UInt16 = 2047,
        connectionTimeout: Duration = .seconds(10),
        connectionName: String? = nil
    ) {
        self.host = host
        self.port = port ?? (tls == nil ? 5672 : 5671)
        self.tls = tls
        self.username = username
        self.password = password
        self.virtualHost = virtualHost
        self.authMechanism = authMechanism
        self.heartbeat = heartbeat
        self.frameMax = frameMax
        self.channelMax = channelMax
        self.connectionTimeout = connectionTimeout
        self.connectionName = connectionName
    }

    /// Parses a RabbitMQ URI: `amqp[s]://[user[:password]@]host[:port][/vhost][?query]`.
    ///
    /// As RabbitMQ specifies: no path means vhost `/`; a path is the percent-decoded vhost
    /// (`/%2f` is `/`, `/` alone is the empty vhost). Query parameters `heartbeat` (seconds),
    /// `frame_max` (bytes), `channel_max`, `connection_timeout` (milliseconds) and `auth_mechanism`
    /// (`plain` or `amqplain`) are honoured.
    ///
    /// - Throws: ``AMQPClientError`` with code `invalidURI` naming the part that is wrong.
    public init(uri: String) throws(AMQPClientError) {
        guard let components = URLComponents(string: uri), let scheme = components.scheme?.lowercased() else {
            throw AMQPClientError(.invalidURI, message: "not a URI")
        }
        guard scheme == "amqp" || scheme == "amqps" else {
            throw AMQPClientError(.invalidURI, message: "scheme must be amqp or amqps, not \(scheme)")
        }
        guard let host = components.host, !host.isEmpty else {
            throw AMQPClientError(.invalidURI, message: "no host")
        }
        let tls: TLSConfiguration? = scheme == "amqps" ? .makeClientConfiguration() : nil
        self.init(host: host, port: components.port, tls: tls)
        if let user = components.percentEncodedUser {
            self.username = user.removingPercentEncoding ?? user
        }
        if let password = components.percentEncodedPassword {
            self.password = password.removingPercentEncoding ?? password
        }
        let path = components.percentEncodedPath
        if !path.isEmpty {
            let encoded = String(path.dropFirst())
            guard !encoded.contains("/") else {
                throw AMQPClientError(.invalidURI, message: "the virtual host must be one path segment (use %2f)")
            }
            self.virtualHost = encoded.removingPercentEncoding ?? encoded
        }
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "heartbeat":
                self.heartbeat = try Self.number(value, name: item.name)
            case "frame_max":
                self.frameMax = try Self.number(value, name: item.name)
                guard self.frameMax == 0 || self.frameMax >= 4096 else {
                    throw AMQPClientError(.invalidURI, message: "frame_max must be 0 or at least 4096")
                }
            case "channel_max":
                self.channelMax = try Self.number(value, name: item.name)
            case "connection_timeout":
                let milliseconds: UInt32 = try Self.number(value, name: item.name)
                self.connectionTimeout = .milliseconds(Int64(milliseconds))
            case "auth_mechanism":
                guard let mechanism = AuthMechanism(rawValue: value.uppercased()) else {
                    throw AMQPClientError(.invalidURI, message: "auth_mechanism must be plain or amqplain")
                }
                self.authMechanism = mechanism
            default:
                continue
            }
        }
    }

    private static func number<Value: FixedWidthInteger>(_ text: String, name: String) throws(AMQPClientError) -> Value
    {
        guard let value = Value(text) else {
            throw AMQPClientError(.invalidURI, message: "\(name) must be a number from 0 to \(Value.max)")
        }
        return value
    }

    /// The SASL response for the configured mechanism. Holds the password: never log it.
    var saslResponse: ByteBuffer {
        var buffer = ByteBuffer()
        switch self.authMechanism {
        case .plain:
            buffer.writeInteger(UInt8(0))
            buffer.writeString(self.username)
            buffer.writeInteger(UInt8(0))
            buffer.writeString(self.password)
        case .amqplain:
            // AMQPLAIN: a field table without its length prefix.
            var table = ByteBuffer()
            try? AMQPFieldTable([("LOGIN", .longString(self.username)), ("PASSWORD", .longString(self.password))])
                .encodeForAMQPLAIN(into: &table)
            buffer.writeImmutableBuffer(table)
        }
        return buffer
    }

    var clientProperties: AMQPFieldTable {
        var properties: AMQPFieldTable = [
            "product": "decode-async",
            "platform": "Swift",
            "version": "0.1.0",
            "capabilities": .table([
                "publisher_confirms": true,
                "consumer_cancel_notify": true,
                "basic.nack": true,
                "connection.blocked": true,
                "exchange_exchange_bindings": true,
                "authentication_failure_close": true,
            ]),
        ]
        if let connectionName {
            properties["connection_name"] = .longString(connectionName)
        }
        return properties
    }
}

extension AMQPConnectionConfiguration: CustomStringConvertible, CustomDebugStringConvertible {
    /// The broker as a URI with the password masked (`amqp://guest:***@host:5672/vhost`), safe for
    /// logs, also when the whole configuration is interpolated.
    public var description: String {
        let scheme = self.tls == nil ? "amqp" : "amqps"
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return "\(scheme)://\(self.username):***@\(host):\(self.port)/\(self.virtualHost)"
    }

    /// The same as ``description``: the password never appears.
    public var debugDescription: String { self.description }
}
