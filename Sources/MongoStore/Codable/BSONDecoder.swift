import Foundation

/// Decodes `Decodable` values straight from BSON documents. Unknown fields are ignored; a field of
/// the wrong type is a `DecodingError` whose coding path names it. Integers accept int32, int64 and
/// integral doubles that fit; `Date` reads a datetime; ``BSONObjectID`` an ObjectId.
public struct BSONDecoder: Sendable {
    /// Creates a decoder; it holds no options or state.
    public init() {}

    /// Decodes `type` from a document, e.g. one returned by `find`.
    /// - Throws: `DecodingError` naming the coding path of a missing or mistyped field.
    public func decode<Value: Decodable>(_ type: Value.Type, from document: BSONDocument) throws -> Value {
        try self.decode(type, fromValue: .document(document))
    }

    /// Decodes `type` from any BSON value, e.g. one field of a document.
    /// - Throws: `DecodingError` naming the coding path of a missing or mistyped field.
    public func decode<Value: Decodable>(_ type: Value.Type, fromValue value: BSON) throws -> Value {
        try _BSONDecoder(value: value, codingPath: []).decodeSpecial(type)
    }
}

struct _BSONDecoder: Decoder {
    let value: BSON
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func decodeSpecial<Value: Decodable>(_ type: Value.Type) throws -> Value {
        if type == BSONObjectID.self {
            guard case .objectID(let id) = self.value, let result = id as? Value else { throw self.mismatch(type) }
            return result
        }
        if type == Date.self {
            guard let date = self.value.dateValue, let result = date as? Value else { throw self.mismatch(type) }
            return result
        }
        if type == Data.self {
            guard case .binary(_, let bytes) = self.value, let result = Data(bytes) as? Value else {
                throw self.mismatch(type)
            }
            return result
        }
        if type == BSON.self, let result = self.value as? Value {
            return result
        }
        if type == BSONDocument.self {
            guard case .document(let document) = self.value, let result = document as? Value else {
                throw self.mismatch(type)
            }
            return result
        }
        return try Value(from: self)
    }

    func mismatch(_ type: Any.Type) -> DecodingError {
        if case .null = self.value {
            return .valueNotFound(type, .init(codingPath: self.codingPath, debugDescription: "null"))
        }
        return .typeMismatch(type, .init(codingPath: self.codingPath, debugDescription: "found \(self.value.typeName)"))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .document(let document) = self.value else { throw self.mismatch([String: Any].self) }
        return KeyedDecodingContainer(KeyedContainer<Key>(document: document, codingPath: self.codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let values) = self.value else { throw self.mismatch([Any].self) }
        return UnkeyedContainer(values: values, codingPath: self.codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleValueContainer(decoder: self)
    }

    struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let document: BSONDocument
        let codingPath: [any CodingKey]
        var allKeys: [Key] { self.document.keys.compactMap { Key(stringValue: $0) } }

        func contains(_ key: Key) -> Bool { self.document[key.stringValue] != nil }

        private func value(for key: Key) throws -> BSON {
            guard let value = self.document[key.stringValue] else {
                throw DecodingError.keyNotFound(key, .init(codingPath: self.codingPath, debugDescription: "missing"))
            }
            return value
        }

        func decodeNil(forKey key: Key) throws -> Bool {
            if case .null = try self.value(for: key) { return true }
            return false
        }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            try _BSONDecoder(value: try self.value(for: key), codingPath: self.codingPath + [key]).decodeSpecial(type)
        }

        func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
            guard let value = self.document[key.stringValue] else { return nil }
            if case .null = value { return nil }
            return try _BSONDecoder(value: value, codingPath: self.codingPath + [key]).decodeSpecial(type)
        }

        func nestedContainer<NestedKey: CodingKey>(
            keyedBy type: NestedKey.Type,
            forKey key: Key
        ) throws -> KeyedDecodingContainer<NestedKey> {
            try _BSONDecoder(value: try self.value(for: key), codingPath: self.codingPath + [key]).container(
                keyedBy: type)
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try _BSONDecoder(value: try self.value(for: key), codingPath: self.codingPath + [key]).unkeyedContainer()
        }

        func superDecoder() throws -> any Decoder {
            _BSONDecoder(value: self.document["super"] ?? .null, codingPath: self.codingPath)
        }

        func superDecoder(forKey key: Key) throws -> any Decoder {
            _BSONDecoder(value: self.document[key.stringValue] ?? .null, codingPath: self.codingPath + [key])
        }
    }

    struct UnkeyedContainer: UnkeyedDecodingContainer {
        let values: [BSON]
        let codingPath: [any CodingKey]
        var currentIndex = 0
        var count: Int? { self.values.count }
        var isAtEnd: Bool { self.currentIndex >= self.values.count }

        init(values: [BSON], codingPath: [any CodingKey]) {
            self.values = values
            self.codingPath = codingPath
        }

        private mutating func next(_ type: Any.Type) throws -> _BSONDecoder {
            guard !self.isAtEnd else {
                throw DecodingError.valueNotFound(
                    type, .init(codingPath: self.codingPath, debugDescription: "array ended"))
            }
            defer { self.currentIndex += 1 }
            return _BSONDecoder(
                value: self.values[self.currentIndex], codingPath: self.codingPath + [IndexKey(self.currentIndex)])
        }

        mutating func decodeNil() throws -> Bool {
            guard !self.isAtEnd, case .null = self.values[self.currentIndex] else { return false }
            self.currentIndex += 1
            return true
        }

        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try self.next(type).decodeSpecial(type)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
            -> KeyedDecodingContainer<NestedKey>
        {
            try self.next([String: Any].self).container(keyedBy: type)
        }

        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            try self.next([Any].self).unkeyedContainer()
        }

        mutating func superDecoder() throws -> any Decoder {
            try self.next(Any.self)
        }
    }

    struct SingleValueContainer: SingleValueDecodingContainer {
        let decoder: _BSONDecoder
        var codingPath: [any CodingKey] { self.decoder.codingPath }
        var value: BSON { self.decoder.value }

        func decodeNil() -> Bool {
            if case .null = self.value { return true }
            return false
        }

        func decode(_ type: Bool.Type) throws -> Bool {
            guard case .bool(let bool) = self.value else { throw self.decoder.mismatch(type) }
            return bool
        }

        func decode(_ type: String.Type) throws -> String {
            guard case .string(let string) = self.value else { throw self.decoder.mismatch(type) }
            return string
        }

        func decode(_ type: Double.Type) throws -> Double {
            switch self.value {
            case .double(let double): return double
            case .int32(let int): return Double(int)
            case .int64(let int): return Double(int)
            default: throw self.decoder.mismatch(type)
            }
        }

        func decode(_ type: Float.Type) throws -> Float { Float(try self.decode(Double.self)) }

        private func integer<Value: FixedWidthInteger>(_ type: Value.Type) throws -> Value {
            let result: Value?
            switch self.value {
            case .int32(let int): result = Value(exactly: int)
            case .int64(let int): result = Value(exactly: int)
            case .double(let double): result = Value(exactly: double)
            default: throw self.decoder.mismatch(type)
            }
            guard let result else {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: self.codingPath, debugDescription: "does not fit \(type)"))
            }
            return result
        }

        func decode(_ type: Int.Type) throws -> Int { try self.integer(type) }
        func decode(_ type: Int8.Type) throws -> Int8 { try self.integer(type) }
        func decode(_ type: Int16.Type) throws -> Int16 { try self.integer(type) }
        func decode(_ type: Int32.Type) throws -> Int32 { try self.integer(type) }
        func decode(_ type: Int64.Type) throws -> Int64 { try self.integer(type) }
        func decode(_ type: UInt.Type) throws -> UInt { try self.integer(type) }
        func decode(_ type: UInt8.Type) throws -> UInt8 { try self.integer(type) }
        func decode(_ type: UInt16.Type) throws -> UInt16 { try self.integer(type) }
        func decode(_ type: UInt32.Type) throws -> UInt32 { try self.integer(type) }
        func decode(_ type: UInt64.Type) throws -> UInt64 { try self.integer(type) }

        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try self.decoder.decodeSpecial(type)
        }
    }
}

struct IndexKey: CodingKey {
    var stringValue: String
    var intValue: Int?

    init(_ index: Int) {
        self.stringValue = String(index)
        self.intValue = index
    }

    init?(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = Int(stringValue)
    }

    init?(intValue: Int) {
        self.init(intValue)
    }
}

extension BSON {
    /// The BSON type's name, for error messages (never the value).
    var typeName: String {
        switch self {
        case .double: "double"
        case .string: "string"
        case .document: "document"
        case .array: "array"
        case .binary: "binary"
        case .objectID: "objectId"
        case .bool: "bool"
        case .datetime: "date"
        case .null: "null"
        case .int32: "int"
        case .int64: "long"
        case .decimal128: "decimal"
        case .timestamp: "timestamp"
        case .regularExpression: "regex"
        case .minKey: "minKey"
        case .maxKey: "maxKey"
        }
    }
}
