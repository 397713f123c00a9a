import NIOCore

/// What is wrong with bytes from the server.
public struct RESPProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What was wrong, quoting the malformed header line when there is one.
    public var reason: String
    /// The reason prefixed with "RESP protocol violation", for logs.
    public var description: String { "RESP protocol violation: \(self.reason)" }
}

/// Splits the inbound stream into RESP2/RESP3 values; returns nil until a whole value arrived.
/// Attributes (`|`) are read and dropped; nesting deeper than 64 levels is an error.
public struct RESPDecoder: NIOSingleStepByteToMessageDecoder {
    /// The decoder emits one whole RESP value (a reply or a push) at a time.
    public typealias InboundOut = RESPValue

    /// Creates a decoder.
    public init() {}

    /// Returns the next whole value, or `nil` while it is incomplete (the buffer is then left as it was).
    /// - Throws: ``RESPProtocolError`` for an unknown type byte, a malformed length or too deep nesting.
    public mutating func decode(buffer: inout ByteBuffer) throws -> RESPValue? {
        var copy = buffer
        guard let value = try Self.parse(&copy, depth: 0) else { return nil }
        buffer = copy
        return value
    }

    /// Decodes a value left in the buffer when the input ends; a partial value yields `nil`.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> RESPValue? {
        try self.decode(buffer: &buffer)
    }

    /// Reads one value from `buffer`, or nil (buffer untouched by the caller's copy) if incomplete.
    static func parse(_ buffer: inout ByteBuffer, depth: Int) throws -> RESPValue? {
        guard depth < 64 else { throw RESPProtocolError(reason: "nesting deeper than 64") }
        guard let type = buffer.readInteger(as: UInt8.self) else { return nil }
        guard let line = Self.line(&buffer) else { return nil }
        switch type {
        case UInt8(ascii: "+"): return .simpleString(line)
        case UInt8(ascii: "-"): return .error(line)
        case UInt8(ascii: ":"):
            guard let value = Int64(line) else { throw RESPProtocolError(reason: "integer '\(line)'") }
            return .integer(value)
        case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
            guard let length = Int(line) else { throw RESPProtocolError(reason: "length '\(line)'") }
            if length < 0 {
                return .bulkString(nil)
            }
            guard buffer.readableBytes >= length + 2, let bytes = buffer.readSlice(length: length) else { return nil }
            buffer.moveReaderIndex(forwardBy: 2)
            switch type {
            case UInt8(ascii: "!"): return .error(String(buffer: bytes))
            case UInt8(ascii: "="): return .verbatimString(String(String(buffer: bytes).dropFirst(4)))
            default: return .bulkString(bytes)
            }
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"):
            guard let count = Int(line) else { throw RESPProtocolError(reason: "count '\(line)'") }
            if count < 0 { return .array(nil) }
            var values: [RESPValue] = []
            values.reserveCapacity(min(count, 1024))
            for _ in 0..<count {
                guard let value = try Self.parse(&buffer, depth: depth + 1) else { return nil }
                values.append(value)
            }
            switch type {
            case UInt8(ascii: "~"): return .set(values)
            case UInt8(ascii: ">"): return .push(values)
            default: return .array(values)
            }
        case UInt8(ascii: "%"), UInt8(ascii: "|"):
            guard let count = Int(line), count >= 0 else { throw RESPProtocolError(reason: "map size '\(line)'") }
            var map: [RESPValue: RESPValue] = [:]
            for _ in 0..<count {
                guard let key = try Self.parse(&buffer, depth: depth + 1),
                    let value = try Self.parse(&buffer, depth: depth + 1)
                else { return nil }
                map[key] = value
            }
            if type == UInt8(ascii: "|") {
                // An attribute annotates the value that follows: return that value.
                return try Self.parse(&buffer, depth: depth)
            }
            return .map(map)
        case UInt8(ascii: "_"): return .null
        case UInt8(ascii: "#"):
            switch line {
            case "t": return .boolean(true)
            case "f": return .boolean(false)
            default: throw RESPProtocolError(reason: "boolean '\(line)'")
            }
        case UInt8(ascii: ","):
            switch line {
            case "inf": return .double(.infinity)
            case "-inf": return .double(-.infinity)
            case "nan": return .double(.nan)
            default:
                guard let value = Double(line) else { throw RESPProtocolError(reason: "double '\(line)'") }
                return .double(value)
            }
        case UInt8(ascii: "("): return .bigNumber(line)
        default:
            throw RESPProtocolError(reason: "unknown type byte \(type)")
        }
    }

    /// The text up to CRLF, or nil when the line is incomplete.
    private static func line(_ buffer: inout ByteBuffer) -> String? {
        let view = buffer.readableBytesView
        guard let cr = view.firstIndex(of: UInt8(ascii: "\r")), cr + 1 < view.endIndex,
            view[cr + 1] == UInt8(ascii: "\n")
        else { return nil }
        let length = cr - view.startIndex
        let text = buffer.readString(length: length) ?? ""
        buffer.moveReaderIndex(forwardBy: 2)
        return text
    }
}

/// Writes commands as RESP arrays of bulk strings.
public enum RESPEncoder {
    /// Writes one command as a RESP array of bulk strings, the form every Redis server accepts.
    public static func encode(_ arguments: [RESPArgument], into buffer: inout ByteBuffer) {
        buffer.writeString("*\(arguments.count)\r\n")
        for argument in arguments {
            switch argument {
            case .string(let string):
                buffer.writeString("$\(string.utf8.count)\r\n")
                buffer.writeString(string)
            case .bytes(let bytes):
                buffer.writeString("$\(bytes.readableBytes)\r\n")
                buffer.writeImmutableBuffer(bytes)
            }
            buffer.writeString("\r\n")
        }
    }
}

/// One argument of a command: text or raw bytes (binary-safe).
public enum RESPArgument: Sendable, Hashable, ExpressibleByStringLiteral {
    /// Text, sent as its UTF-8 bytes.
    case string(String)
    /// Raw bytes, sent as they are.
    case bytes(ByteBuffer)

    /// A string literal is a text argument, so commands read `["GET", .string(key)]`.
    public init(stringLiteral value: String) {
        self = .string(value)
    }
}
