/// One result row: values by position, named by the result's keys.
public struct BoltRecord: Sendable, Equatable {
    /// The column names, in the order of `RETURN`.
    public let keys: [String]
    /// The values, in the same order as `keys`.
    public let values: [BoltValue]

    /// Creates a record from column names and values.
    public init(keys: [String], values: [BoltValue]) {
        self.keys = keys
        self.values = values
    }

    /// The value named `key`, `.null` when there is none.
    public subscript(key: String) -> BoltValue {
        guard let index = self.keys.firstIndex(of: key), index < self.values.count else { return .null }
        return self.values[index]
    }

    /// The value named `key` as `T`.
    ///
    /// - Throws: ``BoltError`` `typeMismatch` when it is missing or of another type.
    public func get<T: BoltValueConvertible>(_ key: String, as type: T.Type = T.self) throws(BoltError) -> T {
        guard let value = T(boltValue: self[key]) else {
            throw BoltError(.typeMismatch, "'\(key)' is not \(T.self)")
        }
        return value
    }
}

/// A Swift type a Bolt value converts to.
public protocol BoltValueConvertible {
    /// Converts `boltValue`; `nil` when it has another type.
    init?(boltValue: BoltValue)
}

extension String: BoltValueConvertible {
    /// A `String` from a string value; `nil` for any other type.
    public init?(boltValue: BoltValue) {
        guard let value = boltValue.stringValue else { return nil }
        self = value
    }
}

extension Int64: BoltValueConvertible {
    /// An `Int64` from an integer value; `nil` for any other type.
    public init?(boltValue: BoltValue) {
        guard let value = boltValue.intValue else { return nil }
        self = value
    }
}

extension Int: BoltValueConvertible {
    /// An `Int` from an integer value; `nil` for any other type.
    public init?(boltValue: BoltValue) {
        guard let value = boltValue.intValue else { return nil }
        self = Int(value)
    }
}

extension Double: BoltValueConvertible {
    /// A `Double` from a float or an integer value; `nil` for any other type.
    public init?(boltValue: BoltValue) {
        guard let value = boltValue.doubleValue else { return nil }
        self = value
    }
}

extension Bool: BoltValueConvertible {
    /// A `Bool` from a boolean value; `nil` for any other type.
    public init?(boltValue: BoltValue) {
        guard let value = boltValue.boolValue else { return nil }
        self = value
    }
}

extension BoltNode: BoltValueConvertible {
    /// A node from a node value; `nil` for any other type.
    public init?(boltValue: BoltValue) {
        guard let value = boltValue.nodeValue else { return nil }
        self = value
    }
}

extension BoltValue: BoltValueConvertible {
    /// Any value as it is; never `nil`.
    public init?(boltValue: BoltValue) { self = boltValue }
}

extension Optional: BoltValueConvertible where Wrapped: BoltValueConvertible {
    /// `.none` for a null value, the wrapped type's conversion otherwise.
    public init?(boltValue: BoltValue) {
        if boltValue == .null {
            self = .none
        } else {
            guard let value = Wrapped(boltValue: boltValue) else { return nil }
            self = .some(value)
        }
    }
}
