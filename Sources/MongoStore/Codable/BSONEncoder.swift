import Foundation

/// Encodes `Encodable` values straight into BSON documents (no JSON round trip): `Date` becomes a
/// UTC datetime, ``BSONObjectID`` an ObjectId, `Data` binary, `Int`/`Int64` int64, `Int32` int32;
/// keys keep the order the type encodes them in.
public struct BSONEncoder: Sendable {
    /// Creates an encoder; it holds no options or state.
    public init() {}

    /// Encodes a value whose top level is keyed (a struct or class).
    ///
    /// - Throws: `EncodingError` when the top level is not a document.
    public func encode<Value: Encodable>(_ value: Value) throws -> BSONDocument {
        guard case .document(let document) = try self.encodeValue(value) else {
            throw EncodingError.invalidValue(
                value,
                .init(codingPath: [], debugDescription: "the top level must encode as a document")
            )
        }
        return document
    }

    /// Encodes any value as one BSON value.
    public func encodeValue<Value: Encodable>(_ value: Value) throws -> BSON {
        if let special = Self.special(value) { return special }
        let node = BSONNode()
        try value.encode(to: _BSONEncoder(codingPath: [], node: node))
        return node.value
    }

    static func special(_ value: Any) -> BSON? {
        switch value {
        case let id as BSONObjectID: .objectID(id)
        case let date as Date: .date(date)
        case let data as Data: .binary(subtype: 0, bytes: Array(data))
        case let bson as BSON: bson
        case let document as BSONDocument: .document(document)
        default: nil
        }
    }
}

/// A node of the value being built; containers write into it by reference.
final class BSONNode {
    enum Content {
        case empty
        case value(BSON)
        case document([(String, BSONNode)])
        case array([BSONNode])
    }

    var content: Content = .empty

    var value: BSON {
        switch self.content {
        case .empty: .document([:])
        case .value(let value): value
        case .document(let elements): .document(BSONDocument(elements.map { ($0.0, $0.1.value) }))
        case .array(let nodes): .array(nodes.map(\.value))
        }
    }
}

struct _BSONEncoder: Encoder {
    let codingPath: [any CodingKey]
    let target: BSONNode
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(codingPath: [any CodingKey], node: BSONNode) {
        self.codingPath = codingPath
        self.target = node
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .document = self.target.content {} else { self.target.content = .document([]) }
        return KeyedEncodingContainer(KeyedContainer<Key>(node: self.target, codingPath: self.codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array = self.target.content {} else { self.target.content = .array([]) }
        return UnkeyedContainer(node: self.target, codingPath: self.codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleValueContainer(node: self.target, codingPath: self.codingPath)
    }

    /// Encodes `value` into `node`, with BSON's special types first.
    static func encode<Value: Encodable>(_ value: Value, into node: BSONNode, codingPath: [any CodingKey]) throws {
        if let special = BSONEncoder.special(value) {
            node.content = .value(special)
            return
        }
        try value.encode(to: _BSONEncoder(codingPath: codingPath, node: node))
    }

    struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let node: BSONNode
        let codingPath: [any CodingKey]

        private func child(for key: Key) -> BSONNode {
            self.child(named: key.stringValue)
        }

        private func child(named name: String) -> BSONNode {
            let child = BSONNode()
            if case .document(var elements) = self.node.content {
                elements.removeAll { $0.0 == name }
                elements.append((name, child))
                self.node.content = .document(elements)
            }
            return child
        }

        mutating func encodeNil(forKey key: Key) throws { self.child(for: key).content = .value(.null) }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            try _BSONEncoder.encode(value, into: self.child(for: key), codingPath: self.codingPath + [key])
        }
        mutating func nestedContainer<NestedKey: CodingKey>(
            keyedBy keyType: NestedKey.Type,
            forKey key: Key
        ) -> KeyedEncodingContainer<NestedKey> {
            let child = self.child(for: key)
            child.content = .document([])
            return KeyedEncodingContainer(KeyedContainer<NestedKey>(node: child, codingPath: self.codingPath + [key]))
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            let child = self.child(for: key)
            child.content = .array([])
            return UnkeyedContainer(node: child, codingPath: self.codingPath + [key])
        }
        mutating func superEncoder() -> any Encoder {
            _BSONEncoder(codingPath: self.codingPath, node: self.child(named: "super"))
        }
        mutating func superEncoder(forKey key: Key) -> any Encoder {
            _BSONEncoder(codingPath: self.codingPath + [key], node: self.child(for: key))
        }
    }

    struct UnkeyedContainer: UnkeyedEncodingContainer {
        let node: BSONNode
        let codingPath: [any CodingKey]
        var count: Int {
            if case .array(let nodes) = self.node.content { return nodes.count }
            return 0
        }

        private func append() -> BSONNode {
            let child = BSONNode()
            if case .array(var nodes) = self.node.content {
                nodes.append(child)
                self.node.content = .array(nodes)
            }
            return child
        }

        mutating func encodeNil() throws { self.append().content = .value(.null) }
        mutating func encode<T: Encodable>(_ value: T) throws {
            try _BSONEncoder.encode(value, into: self.append(), codingPath: self.codingPath)
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<
            NestedKey
        > {
            let child = self.append()
            child.content = .document([])
            return KeyedEncodingContainer(KeyedContainer<NestedKey>(node: child, codingPath: self.codingPath))
        }
        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            let child = self.append()
            child.content = .array([])
            return UnkeyedContainer(node: child, codingPath: self.codingPath)
        }
        mutating func superEncoder() -> any Encoder {
            _BSONEncoder(codingPath: self.codingPath, node: self.append())
        }
    }

    struct SingleValueContainer: SingleValueEncodingContainer {
        let node: BSONNode
        let codingPath: [any CodingKey]

        private func set(_ value: BSON) { self.node.content = .value(value) }

        mutating func encodeNil() throws { self.set(.null) }
        mutating func encode(_ value: Bool) throws { self.set(.bool(value)) }
        mutating func encode(_ value: String) throws { self.set(.string(value)) }
        mutating func encode(_ value: Double) throws { self.set(.double(value)) }
        mutating func encode(_ value: Float) throws { self.set(.double(Double(value))) }
        mutating func encode(_ value: Int) throws { self.set(.int64(Int64(value))) }
        mutating func encode(_ value: Int8) throws { self.set(.int32(Int32(value))) }
        mutating func encode(_ value: Int16) throws { self.set(.int32(Int32(value))) }
        mutating func encode(_ value: Int32) throws { self.set(.int32(value)) }
        mutating func encode(_ value: Int64) throws { self.set(.int64(value)) }
        mutating func encode(_ value: UInt) throws { try self.encodeUnsigned(UInt64(value)) }
        mutating func encode(_ value: UInt8) throws { self.set(.int32(Int32(value))) }
        mutating func encode(_ value: UInt16) throws { self.set(.int32(Int32(value))) }
        mutating func encode(_ value: UInt32) throws { self.set(.int64(Int64(value))) }
        mutating func encode(_ value: UInt64) throws { try self.encodeUnsigned(value) }
        mutating func encode<T: Encodable>(_ value: T) throws {
            try _BSONEncoder.encode(value, into: self.node, codingPath: self.codingPath)
        }

        private func encodeUnsigned(_ value: UInt64) throws {
            guard let signed = Int64(exactly: value) else {
                throw EncodingError.invalidValue(
                    value, .init(codingPath: self.codingPath, debugDescription: "exceeds Int64"))
            }
            self.set(.int64(signed))
        }
    }
}
