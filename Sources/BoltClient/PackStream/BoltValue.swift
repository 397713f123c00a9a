/// A PackStream v1 value: what Bolt parameters and record fields are made of.
///
/// Maps are kept as Swift dictionaries (PackStream maps are unordered); the encoder writes their keys
/// sorted so equal values always produce equal bytes.
public enum BoltValue: Sendable, Hashable {
    /// Cypher `null`, also what a missing property reads as.
    case null
    /// A boolean.
    case bool(Bool)
    /// A 64-bit signed integer, Cypher's only integer type.
    case int(Int64)
    /// A 64-bit float.
    case float(Double)
    /// A UTF-8 string.
    case string(String)
    /// A byte array.
    case bytes([UInt8])
    /// A list of values, possibly of mixed types.
    case list([BoltValue])
    /// A map with string keys.
    case map([String: BoltValue])
    /// A graph node, as returned by `RETURN n`.
    case node(BoltNode)
    /// A relationship with the ids of its end nodes.
    case relationship(BoltRelationship)
    /// A relationship inside a path, without its end nodes.
    case unboundRelationship(BoltUnboundRelationship)
    /// A path of alternating nodes and relationships.
    case path(BoltPath)
    /// A date without time.
    case date(BoltDate)
    /// A time of day with a UTC offset.
    case time(BoltTime)
    /// A time of day without a zone.
    case localTime(BoltLocalTime)
    /// An instant with an offset or a named zone.
    case dateTime(BoltDateTime)
    /// A date and time without a zone.
    case localDateTime(BoltLocalDateTime)
    /// A duration in months, days, seconds and nanoseconds.
    case duration(BoltDuration)
    /// A 2D or 3D point in a coordinate system.
    case point(BoltPoint)
    /// A structure this client has no type for, kept as its tag and fields (PackStream allows at
    /// most 15; encoding more is a programming error and stops the process).
    case structure(tag: UInt8, fields: [BoltValue])
}

// MARK: Typed access

extension BoltValue {
    /// Whether the value is null (a missing property or a `null` in Cypher).
    public var isNull: Bool { self == .null }

    /// The boolean, or `nil` when the value is not a boolean.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The integer, or `nil` when the value is not an integer (floats are not converted).
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

    /// The string, or `nil` when the value is not a string.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The elements, or `nil` when the value is not a list.
    public var listValue: [BoltValue]? {
        if case .list(let value) = self { return value }
        return nil
    }

    /// The entries, or `nil` when the value is not a map.
    public var mapValue: [String: BoltValue]? {
        if case .map(let value) = self { return value }
        return nil
    }

    /// The node, or `nil` when the value is not a node.
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
    /// `nil` is the null value.
    public init(nilLiteral: ()) { self = .null }
    /// A boolean literal is a boolean.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// An integer literal is a 64-bit integer.
    public init(integerLiteral value: Int64) { self = .int(value) }
    /// A float literal is a 64-bit float.
    public init(floatLiteral value: Double) { self = .float(value) }
    /// A string literal is a string.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An array literal is a list.
    public init(arrayLiteral elements: BoltValue...) { self = .list(elements) }

    /// A dictionary literal is a map; a repeated key keeps its last value.
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
