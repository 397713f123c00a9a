/// A PackStream v1 value: what Bolt parameters and record fields are made of.
///
/// Maps are kept as Swift dictionaries (PackStream maps are unordered); the encoder writes their keys
/// sorted so equal values always produce equal bytes.
public enum BoltValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case list([BoltValue])
    case map([String: BoltValue])
    case node(BoltNode)
    case relationship(BoltRelationship)
    case unboundRelationship(BoltUnboundRelationship)
    case path(BoltPath)
    case date(BoltDate)
    case time(BoltTime)
    case localTime(BoltLocalTime)
    case dateTime(BoltDateTime)
    case localDateTime(BoltLocalDateTime)
    case duration(BoltDuration)
    case point(BoltPoint)
    /// A structure this client has no type for, kept as its tag and fields (PackStream allows at
    /// most 15; encoding more is a programming error and stops the process).
    case structure(tag: UInt8, fields: [BoltValue])
}

// MARK: Typed access

extension BoltValue {
    public var isNull: Bool { self == .null }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var intValue: Int64? {
        if case .int(let value) = self { return value }
        return nil
    }

    /// The value of a Float, or of an Integer converted to a Double.
    public var doubleValue: Double? {
        switch self {
        case .float(let value): return value
        case .int(let value): return Double(value)
        default: return nil
        }
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var listValue: [BoltValue]? {
        if case .list(let value) = self { return value }
        return nil
    }

    public var mapValue: [String: BoltValue]? {
        if case .map(let value) = self { return value }
        return nil
    }

    public var nodeValue: BoltNode? {
        if case .node(let value) = self { return value }
        return nil
    }

    /// The member `key` of a map, `.null` when absent or when this is not a map.
    public subscript(key: String) -> BoltValue {
        self.mapValue?[key] ?? .null
    }
}

// MARK: Literals

extension BoltValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .float(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: BoltValue...) { self = .list(elements) }

    public init(dictionaryLiteral elements: (String, BoltValue)...) {
        self = .map(Dictionary(elements) { _, last in last })
    }
}

extension BoltValue {
    /// A string, or `.null` for nil.
    public init(_ string: String?) {
        self = string.map(BoltValue.string) ?? .null
    }
}
