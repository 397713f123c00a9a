import Foundation
import HTTPRequestClient
import NIOHTTP1

/// Reads queue figures that AMQP does not give (unacknowledged messages, publish and deliver rates)
/// from RabbitMQ's management HTTP API (`RABBITMQ_MANAGEMENT_URI`, e.g.
/// `http://guest:guest@127.0.0.1:15672`): `GET /api/queues/<vhost>/<queue>`, one short connection
/// per request (`HTTPRequestClient`), bounded by a timeout.
public struct ManagementAPI: Sendable {
    /// What the API says of one queue.
    public struct QueueFigures: Sendable, Equatable {
        public var ready: Int
        public var unacknowledged: Int
        public var consumers: Int
        /// Messages per second over the API's sample window; nil when the queue saw none yet.
        public var publishRate: Double?
        public var deliverRate: Double?
    }

    struct Endpoint: Sendable, Equatable {
        var host: String
        var port: Int
        /// `Basic <base64>`, or nil.
        var authorization: String?
        var vhost: String
    }

    let endpoint: Endpoint
    let client: HTTPRequestClient

    /// nil when `uri` is not `http://[user:password@]host[:port][/]`.
    public init?(uri: String, vhost: String = "/", timeout: Duration = .seconds(2)) {
        guard let endpoint = Self.parse(uri, vhost: vhost) else { return nil }
        self.endpoint = endpoint
        // The body of one queue's answer is a few KiB; 4 MiB leaves room for any queue arguments.
        self.client = HTTPRequestClient(
            endpoint: .init(host: endpoint.host, port: endpoint.port), timeout: timeout, bodyLimit: 4 << 20)
    }

    static func parse(_ uri: String, vhost: String) -> Endpoint? {
        guard uri.lowercased().hasPrefix("http://") else { return nil }
        var rest = Substring(uri.dropFirst("http://".count))
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        var authorization: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at].removingPercentEncoding ?? String(rest[..<at])
            authorization = "Basic " + Data(credentials.utf8).base64EncodedString()
            rest = rest[rest.index(after: at)...]
        }
        var host = String(rest)
        var port = 15672
        if let colon = rest.lastIndex(of: ":") {
            guard let number = Int(rest[rest.index(after: colon)...]), (1...65535).contains(number) else { return nil }
            port = number
            host = String(rest[..<colon])
        }
        guard !host.isEmpty else { return nil }
        return Endpoint(host: host, port: port, authorization: authorization, vhost: vhost)
    }

    /// The figures of `queue`; throws when the API cannot be reached or answers otherwise than 200.
    public func queue(_ queue: String) async throws -> QueueFigures {
        let vhost = Self.percentEncode(self.endpoint.vhost)
        let (status, body) = try await self.get("/api/queues/\(vhost)/\(Self.percentEncode(queue))")
        guard status == 200 else { throw ManagementAPIError(message: "HTTP \(status) for \(queue)") }
        guard let figures = Self.figures(fromJSON: body) else {
            throw ManagementAPIError(message: "unexpected answer for \(queue)")
        }
        return figures
    }

    static func percentEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// Parses one queue object of the API.
    static func figures(fromJSON body: [UInt8]) -> QueueFigures? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return nil }
        func int(_ key: String) -> Int { (object[key] as? NSNumber)?.intValue ?? 0 }
        let stats = object["message_stats"] as? [String: Any]
        func rate(_ key: String) -> Double? {
            ((stats?[key] as? [String: Any])?["rate"] as? NSNumber)?.doubleValue
        }
        return QueueFigures(
            ready: int("messages_ready"), unacknowledged: int("messages_unacknowledged"), consumers: int("consumers"),
            publishRate: rate("publish_details"), deliverRate: rate("deliver_get_details"))
    }

    private func get(_ path: String) async throws -> (Int, [UInt8]) {
        var headers: HTTPHeaders = ["Accept": "application/json"]
        if let authorization = self.endpoint.authorization {
            headers.add(name: "Authorization", value: authorization)
        }
        do {
            let response = try await self.client.send(.GET, path: path, headers: headers)
            return (response.status, response.body)
        } catch let error as HTTPRequestError {
            throw ManagementAPIError(message: error.underlying.map { "\(error.message): \($0)" } ?? error.message)
        }
    }
}

public struct ManagementAPIError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { "RabbitMQ management API: \(self.message)" }
}
