import Foundation
import JSONText

/// An Engine.IO v4 packet: the transport layer under Socket.IO.
public enum EngineIOPacket: Sendable, Hashable {
    /// The handshake, sent once by the server.
    case open(EngineIOHandshake)
    case close
    /// `probe` is the upgrade probe's payload.
    case ping(String)
    case pong(String)
    case message(String)
    /// A binary message: a WebSocket binary frame, or base64 (`b` prefix) in a polling payload.
    case binary([UInt8])
    case upgrade
    case noop

    /// The record separator between packets of a long-polling payload.
    public static let separator: Character = "\u{1e}"

    /// The text form (type digit and data); binary messages are base64 with a `b` prefix, as polling carries them.
    public var text: String {
        switch self {
        case .open(let handshake): "0" + handshake.json
        case .close: "1"
        case .ping(let data): "2" + data
        case .pong(let data): "3" + data
        case .message(let data): "4" + data
        case .binary(let bytes): "b" + Data(bytes).base64EncodedString()
        case .upgrade: "5"
        case .noop: "6"
        }
    }

    /// Parses one text packet.
    ///
    /// - Throws: ``EngineIOError`` for an empty packet, an unknown type, bad base64 or an `open` from a client.
    public static func parse(_ text: Substring) throws(EngineIOError) -> EngineIOPacket {
        guard let type = text.first else { throw EngineIOError("empty packet") }
        let data = String(text.dropFirst())
        switch type {
        case "1": return .close
        case "2": return .ping(data)
        case "3": return .pong(data)
        case "4": return .message(data)
        case "5": return .upgrade
        case "6": return .noop
        case "b":
            guard let bytes = Data(base64Encoded: data) else {
                throw EngineIOError("invalid base64 in a binary packet")
            }
            return .binary(Array(bytes))
        default: throw EngineIOError("unknown packet type '\(type)'")
        }
    }

    /// Encodes packets as one long-polling payload.
    public static func encodePayload(_ packets: [EngineIOPacket]) -> String {
        packets.map(\.text).joined(separator: String(Self.separator))
    }

    /// Splits a long-polling payload into packets.
    public static func parsePayload(_ payload: String) throws(EngineIOError) -> [EngineIOPacket] {
        var packets: [EngineIOPacket] = []
        for part in payload.split(separator: Self.separator, omittingEmptySubsequences: false) {
            packets.append(try Self.parse(part))
        }
        return packets
    }
}

/// The `open` packet's data.
public struct EngineIOHandshake: Sendable, Hashable {
    public var sid: String
    public var upgrades: [String]
    /// Milliseconds.
    public var pingInterval: Int
    /// Milliseconds.
    public var pingTimeout: Int
    /// Bytes.
    public var maxPayload: Int

    /// socket.io 4's defaults: ping every 25 s, 20 s to answer, 1 MB payloads.
    public init(
        sid: String,
        upgrades: [String] = ["websocket"],
        pingInterval: Int = 25_000,
        pingTimeout: Int = 20_000,
        maxPayload: Int = 1_000_000
    ) {
        self.sid = sid
        self.upgrades = upgrades
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.maxPayload = maxPayload
    }

    var json: String {
        let upgrades = self.upgrades.map { JSONText.quoted($0) }.joined(separator: ",")
        return "{\"sid\":\(JSONText.quoted(self.sid)),\"upgrades\":[\(upgrades)],\"pingInterval\":\(self.pingInterval),"
            + "\"pingTimeout\":\(self.pingTimeout),\"maxPayload\":\(self.maxPayload)}"
    }
}

/// A packet that breaks Engine.IO.
public struct EngineIOError: Error, Equatable, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "Engine.IO: \(self.reason)" }
}
