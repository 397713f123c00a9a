import NIOCore

/// A value in an AMQP field table or array, with the type tags RabbitMQ uses
/// (the 0-9-1 errata: `s` is a signed 16-bit integer, `l` a signed 64-bit one, `x` a byte array).
public enum AMQPFieldValue: Sendable, Hashable {
    /// A boolean (`t`).
    case bool(Bool)
    /// A signed 8-bit integer (`b`).
    case int8(Int8)
    /// An unsigned 8-bit integer (`B`).
    case uint8(UInt8)
    /// A signed 16-bit integer (`s`).
    case int16(Int16)
    /// An unsigned 16-bit integer (`u`).
    case uint16(UInt16)
    /// A signed 32-bit integer (`I`).
    case int32(Int32)
    /// An unsigned 32-bit integer (`i`).
    case uint32(UInt32)
    /// A signed 64-bit integer (`l`); integer literals become this.
    case int64(Int64)
    /// A 32-bit float (`f`).
    case float(Float)
    /// A 64-bit float (`d`).
    case double(Double)
    /// `scale` decimal digits after the point: `value / 10^scale`.
    case decimal(scale: UInt8, value: UInt32)
    /// A UTF-8 string of up to 4 GiB (`S`), the usual type of header values.
    case longString(String)
    /// Raw bytes (`x`), e.g. binary header values.
    case bytes([UInt8])
    /// An ordered list of values (`A`), e.g. `x-death`.
    case array([AMQPFieldValue])
    /// Seconds since 1970 (`T`).
    case timestamp(UInt64)
    /// A nested table (`F`).
    case table(AMQPFieldTable)
    /// No value (`V`).
    case void

    var tag: UInt8 {
        switch self {
        case .bool: UInt8(ascii: "t")
        case .int8: UInt8(ascii: "b")
        case .uint8: UInt8(ascii: "B")
        case .int16: UInt8(ascii: "s")
        case .uint16: UInt8(ascii: "u")
        case .int32: UInt8(ascii: "I")
        case .uint32: UInt8(ascii: "i")
        case .int64: UInt8(ascii: "l")
        case .float: UInt8(ascii: "f")
        case .double: UInt8(ascii: "d")
        case .decimal: UInt8(ascii: "D")
        case .longString: UInt8(ascii: "S")
        case .bytes: UInt8(ascii: "x")
        case .array: UInt8(ascii: "A")
        case .timestamp: UInt8(ascii: "T")
        case .table: UInt8(ascii: "F")
        case .void: UInt8(ascii: "V")
        }
    }

    func encode(into buffer: inout ByteBuffer) throws(AMQPProtocolError) {
        buffer.writeInteger(self.tag)
        switch self {
        case .bool(let value): buffer.writeInteger(UInt8(value ? 1 : 0))
        case .int8(let value): buffer.writeInteger(value)
        case .uint8(let value): buffer.writeInteger(value)
        case .int16(let value): buffer.writeInteger(value)
        case .uint16(let value): buffer.writeInteger(value)
        case .int32(let value): buffer.writeInteger(value)
        case .uint32(let value): buffer.writeInteger(value)
        case .int64(let value): buffer.writeInteger(value)
        case .float(let value): buffer.writeInteger(value.bitPattern)
        case .double(let value): buffer.writeInteger(value.bitPattern)
        case .decimal(let scale, let value):
            buffer.writeInteger(scale)
            buffer.writeInteger(value)
        case .longString(let value): buffer.writeAMQPLongString(value)
        case .bytes(let value):
            buffer.writeInteger(UInt32(value.count))
            buffer.writeBytes(value)
        case .array(let values):
            var body = ByteBuffer()
            for value in values {
                try value.encode(into: &body)
            }
            buffer.writeAMQPLongBytes(body)
        case .timestamp(let value): buffer.writeInteger(value)
        case .table(let table): try table.encode(into: &buffer)
        case .void: break
        }
    }

    static func decode(from buffer: inout ByteBuffer) throws(AMQPProtocolError) -> AMQPFieldValue {
        let tag = try buffer.readAMQPOctet()
        switch tag {
        case UInt8(ascii: "t"): return .bool(try buffer.readAMQPOctet() != 0)
        case UInt8(ascii: "b"): return .int8(Int8(bitPattern: try buffer.readAMQPOctet()))
        case UInt8(ascii: "B"): return .uint8(try buffer.readAMQPOctet())
        case UInt8(ascii: "s"): return .int16(Int16(bitPattern: try buffer.readAMQPShort()))
        case UInt8(ascii: "u"): return .uint16(try buffer.readAMQPShort())
        case UInt8(ascii: "I"): return .int32(Int32(bitPattern: try buffer.readAMQPLong()))
        case UInt8(ascii: "i"): return .uint32(try buffer.readAMQPLong())
        case UInt8(ascii: "l"): return .int64(Int64(bitPattern: try buffer.readAMQPLongLong()))
        case UInt8(ascii: "f"): return .float(Float(bitPattern: try buffer.readAMQPLong()))
        case UInt8(ascii: "d"): return .double(Double(bitPattern: try buffer.readAMQPLongLong()))
        case UInt8(ascii: "D"):
            let scale = try buffer.readAMQPOctet()
            return .decimal(scale: scale, value: try buffer.readAMQPLong())
        case UInt8(ascii: "S"): return .longString(try buffer.readAMQPLongString())
        case UInt8(ascii: "x"): return .bytes(Array(buffer: try buffer.readAMQPLongBytes()))
        case UInt8(ascii: "A"):
            var body = try buffer.readAMQPLongBytes()
            var values: [AMQPFieldValue] = []
            while body.readableBytes > 0 {
                values.append(try AMQPFieldValue.decode(from: &body))
            }
            return .array(values)
        case UInt8(ascii: "T"): return .timestamp(try buffer.readAMQPLongLong())
        case UInt8(ascii: "F"): return .table(try AMQPFieldTable.decode(from: &buffer))
        case UInt8(ascii: "V"): return .void
        default: throw AMQPProtocolError("unknown field value type \(UnicodeScalar(tag))")
        }
    }
}

extension AMQPFieldValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral {
    /// A string literal becomes a long string (`S`).
    public init(stringLiteral value: String) { self = .longString(value) }
    /// A boolean literal becomes a boolean (`t`).
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// An integer literal becomes a signed 64-bit integer (`l`).
    public init(integerLiteral value: Int64) { self = .int64(value) }
}

extension AMQPFieldValue {
    /// The value as a string when it is a long string (or bytes holding UTF-8).
    public var stringValue: String? {
        switch self {
        case .longString(let string): string
        case .bytes(let bytes): String(decoding: bytes, as: UTF8.self)
        default: nil
        }
    }

    /// The value as an integer when it is any integer type.
    public var intValue: Int64? {
        switch self {
        case .int8(let value): Int64(value)
        case .uint8(let value): Int64(value)
        case .int16(let value): Int64(value)
        case .uint16(let value): Int64(value)
        case .int32(let value): Int64(value)
        case .uint32(let value): Int64(value)
        case .int64(let value): value
        case .timestamp(let value): Int64(clamping: value)
        default: nil
        }
    }
}
