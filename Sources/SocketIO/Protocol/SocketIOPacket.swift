/// A Socket.IO v5 packet, carried in an Engine.IO `message`:
/// `<type>[<attachments>-][<namespace>,][<ack id>][<JSON data>]`.
public struct SocketIOPacket: Sendable, Hashable {
    public enum PacketType: Int, Sendable {
        case connect = 0
        case disconnect = 1
        case event = 2
        case ack = 3
        case connectError = 4
        case binaryEvent = 5
        case binaryAck = 6
    }

    public var type: PacketType
    /// `/` for the main namespace.
    public var namespace: String
    public var ackID: Int?
    public var data: JSONValue?
    /// Binary attachments that follow (binary packets only).
    public var attachments: Int

    public init(
        type: PacketType, namespace: String = "/", ackID: Int? = nil, data: JSONValue? = nil, attachments: Int = 0
    ) {
        self.type = type
        self.namespace = namespace
        self.ackID = ackID
        self.data = data
        self.attachments = attachments
    }

    /// An EVENT: `["name", ...arguments]`.
    public static func event(
        _ name: String,
        _ arguments: [JSONValue],
        namespace: String = "/",
        ackID: Int? = nil
    ) -> SocketIOPacket {
        SocketIOPacket(type: .event, namespace: namespace, ackID: ackID, data: .array([.string(name)] + arguments))
    }

    /// The event name and arguments of an EVENT.
    public var eventNameAndArguments: (String, [JSONValue])? {
        guard self.type == .event || self.type == .binaryEvent, case .array(let values) = self.data,
            case .string(let name)? = values.first
        else { return nil }
        return (name, Array(values.dropFirst()))
    }

    public var text: String {
        var text = String(self.type.rawValue)
        if self.type == .binaryEvent || self.type == .binaryAck {
            text += "\(self.attachments)-"
        }
        if self.namespace != "/" {
            text += self.namespace + ","
        }
        if let ackID {
            text += String(ackID)
        }
        if let data {
            text += data.text
        }
        return text
    }

    /// Parses a packet.
    ///
    /// - Throws: ``SocketIOError`` naming what is malformed.
    public static func parse(_ text: String) throws(SocketIOError) -> SocketIOPacket {
        var rest = Substring(text)
        guard let typeCharacter = rest.first, let typeNumber = typeCharacter.wholeNumberValue,
            let type = PacketType(rawValue: typeNumber)
        else { throw SocketIOError("unknown packet type") }
        rest = rest.dropFirst()
        var attachments = 0
        if type == .binaryEvent || type == .binaryAck {
            guard let dash = rest.firstIndex(of: "-"), let count = Int(rest[..<dash]), count >= 0 else {
                throw SocketIOError("binary packet without an attachment count")
            }
            attachments = count
            rest = rest[rest.index(after: dash)...]
        }
        var namespace = "/"
        if rest.first == "/" {
            let end = rest.firstIndex(of: ",") ?? rest.endIndex
            namespace = String(rest[..<end])
            rest = end == rest.endIndex ? rest[end...] : rest[rest.index(after: end)...]
        }
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        var ackID: Int?
        if !digits.isEmpty {
            guard let id = Int(digits) else { throw SocketIOError("ack id out of range") }
            ackID = id
            rest = rest.dropFirst(digits.count)
        }
        var data: JSONValue?
        if !rest.isEmpty {
            do {
                data = try JSONValue.parse(rest)
            } catch {
                throw SocketIOError("payload is not valid JSON")
            }
        }
        switch type {
        case .event, .binaryEvent:
            guard case .array(let values) = data, case .string? = values.first else {
                throw SocketIOError("an event needs a [name, ...] array")
            }
        case .ack, .binaryAck:
            guard ackID != nil, case .array? = data else { throw SocketIOError("an ack needs an id and an array") }
        case .connect:
            if let data, case .object = data {
            } else if data != nil {
                throw SocketIOError("CONNECT data must be an object")
            }
        case .disconnect, .connectError:
            break
        }
        return SocketIOPacket(type: type, namespace: namespace, ackID: ackID, data: data, attachments: attachments)
    }
}

/// A packet that breaks Socket.IO.
public struct SocketIOError: Error, Equatable, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "Socket.IO: \(self.reason)" }
}
