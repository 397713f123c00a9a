import NIOCore

/// A RESP2 or RESP3 value as the server sends it.
public enum RESPValue: Sendable, Hashable {
    case simpleString(String)
    /// `-ERR ...` or a RESP3 blob error: the command failed.
    case error(String)
    case integer(Int64)
    /// A bulk string; nil is RESP2's null bulk string (`$-1`).
    case bulkString(ByteBuffer?)
    /// An array; nil is RESP2's null array (`*-1`).
    case array([RESPValue]?)
    /// RESP3 `_`.
    case null
    case double(Double)
    case boolean(Bool)
    case bigNumber(String)
    case verbatimString(String)
    case map([RESPValue: RESPValue])
    case set([RESPValue])
    /// RESP3 out-of-band data (pub/sub messages).
    case push([RESPValue])

    /// The value as text: simple, bulk and verbatim strings.
    public var string: String? {
        switch self {
        case .simpleString(let string), .verbatimString(let string): string
        case .bulkString(let buffer?): String(buffer: buffer)
        default: nil
        }
    }

    /// The value as an integer (integers, and strings holding one).
    public var int: Int64? {
        switch self {
        case .integer(let value): value
        case .bulkString, .simpleString: self.string.flatMap { Int64($0) }
        default: nil
        }
    }

    /// Whether it is a null of either protocol version.
    public var isNull: Bool {
        switch self {
        case .null, .bulkString(nil), .array(nil): true
        default: false
        }
    }

    /// The elements of an array, set or push.
    public var elements: [RESPValue]? {
        switch self {
        case .array(let values?), .set(let values), .push(let values): values
        default: nil
        }
    }
}
