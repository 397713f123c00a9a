/// One result row: values by position, named by the result's keys.
public struct BoltRecord: Sendable, Equatable {
    public let keys: [String]
    public let values: [BoltValue]

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
    init?(boltValue: BoltValue)
}

extension String: BoltValueConvertible {
    public init?(boltValue: BoltValue) {
        guard let value = boltValue.stringValue else { return nil }
        self = value
    }
}

extension Int64: BoltValueConvertible {
    public init?(boltValue: BoltValue) {
        guard let value = boltValue.intValue else { return nil }
        self = value
    }
}

extension Int: BoltValueConvertible {
    public init?(boltValue: BoltValue) {
        guard let value = boltValue.intValue else { return nil }
        self = Int(value)
    }
}

extension Double: BoltValueConvertible {
    public init?(boltValue: BoltValue) {
        guard let value = boltValue.doubleValue else { return nil }
        self = value
    }
}

extension Bool: BoltValueConvertible {
    public init?(boltValue: BoltValue) {
        guard let value = boltValue.boolValue else { return nil }
        self = value
    }
}

extension BoltNode: BoltValueConvertible {
    public init?(boltValue: BoltValue) {
        guard let value = boltValue.nodeValue else { return nil }
        self = value
    }
}

extension BoltValue: BoltValueConvertible {
    public init?(boltValue: BoltValue) { self = boltValue }
}

extension Optional: BoltValueConvertible where Wrapped: BoltValueConvertible {
    public init?(boltValue: BoltValue) {
        if boltValue == .null {
            self = .none
        } else {
            guard let value = Wrapped(boltValue: boltValue) else { return nil }
            self = .some(value)
        }
    }
}
