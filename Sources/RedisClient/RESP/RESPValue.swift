import NIOCore

/// A RESP2 or RESP3 value as the server sends it.
public enum RESPValue: Sendable, Hashable {
    /// A status reply such as `OK` or `PONG` (`+`).
    case simpleString(String)
    /// `-ERR ...` or a RESP3 blob error: the command failed.
    case error(String)
    /// An integer reply (`:`), e.g. a count or a 0/1 flag.
    case integer(Int64)
    /// A bulk string; nil is RESP2's null bulk string (`$-1`).
    case bulkString(ByteBuffer?)
    /// An array; nil is RESP2's null array (`*-1`).
    case array([RESPValue]?)
    /// RESP3 `_`.
    case null
    /// A RESP3 floating-point number (`,`).
    case double(Double)
    /// A RESP3 boolean (`#`).
    case boolean(Bool)
    /// A RESP3 integer too large for 64 bits (`(`), as its decimal digits.
    case bigNumber(String)
    /// A RESP3 verbatim string (`=`) without its three-letter format prefix.
    case verbatimString(String)
    /// A RESP3 map (`%`), e.g. the reply to `HELLO`.
    case map([RESPValue: RESPValue])
    /// A RESP3 set (`~`), e.g. the reply to `SMEMBERS`.
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
