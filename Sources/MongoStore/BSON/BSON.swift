import Foundation

/// A BSON value (the subset of the BSON specification MongoDB documents here use).
public enum BSON: Sendable, Hashable {
    /// A 64-bit float.
    case double(Double)
    /// A UTF-8 string.
    case string(String)
    /// An embedded document.
    case document(BSONDocument)
    /// An array (stored as a document keyed `0`, `1`, ...).
    case array([BSON])
    /// Binary data with its subtype (0 generic, 4 UUID, ...).
    case binary(subtype: UInt8, bytes: [UInt8])
    /// An ObjectId, the usual `_id`.
    case objectID(BSONObjectID)
    /// A boolean.
    case bool(Bool)
    /// UTC milliseconds since 1970 (dates before 1970 are negative).
    case datetime(Int64)
    /// `null`; an optional property decodes it as `nil`.
    case null
    /// A 32-bit integer.
    case int32(Int32)
    /// A 64-bit integer.
    case int64(Int64)
    /// IEEE 754-2008 decimal128, little-endian bytes as stored.
    case decimal128([UInt8])
    /// The server's internal timestamp (replication, `$clusterTime`).
    case timestamp(increment: UInt32, seconds: UInt32)
    /// A regular expression with its option letters (`i`, `m`, `s`, `x`), stored as given.
    case regularExpression(pattern: String, options: String)
    /// Compares lower than every other value.
    case minKey
    /// Compares higher than every other value.
    case maxKey

    /// The BSON element type byte.
    var typeByte: UInt8 {
        switch self {
        case .double: 0x01
        case .string: 0x02
        case .document: 0x03
        case .array: 0x04
        case .binary: 0x05
        case .objectID: 0x07
        case .bool: 0x08
        case .datetime: 0x09
        case .null: 0x0A
        case .int32: 0x10
        case .int64: 0x12
        case .decimal128: 0x13
        case .timestamp: 0x11
        case .regularExpression: 0x0B
        case .minKey: 0xFF
        case .maxKey: 0x7F
        }
    }

    /// A date as BSON datetime (millisecond precision, UTC).
    public static func date(_ date: Date) -> BSON {
        .datetime(Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))
    }

    /// The value as a `Date` when it is a datetime.
    public var dateValue: Date? {
        guard case .datetime(let millis) = self else { return nil }
        return Date(timeIntervalSince1970: Double(millis) / 1000)
    }
}

/// An ordered BSON document: keys keep the order they were written or read in.
public struct BSONDocument: Sendable, Hashable, ExpressibleByDictionaryLiteral {
    /// The key-value pairs in document order.
    public private(set) var elements: [(key: String, value: BSON)]

    /// An empty document.
    public init() {
        self.elements = []
    }

    /// A document with `elements` in order; a repeated key is kept twice, as BSON allows.
    public init(_ elements: [(String, BSON)]) {
        self.elements = elements.map { (key: $0.0, value: $0.1) }
    }

    /// A document with the literal's elements in the order written.
    public init(dictionaryLiteral elements: (String, BSON)...) {
        self.init(elements)
    }

    /// The keys in document order.
    public var keys: [String] { self.elements.map(\.key) }

    /// The value for `key`; setting replaces in place, appends, or (nil) removes.
    public subscript(key: String) -> BSON? {
        get { self.elements.first { $0.key == key }?.value }
        set {
            let index = self.elements.firstIndex { $0.key == key }
            switch (index, newValue) {
            case (.some(let index), .some(let value)): self.elements[index].value = value
            case (.some(let index), .none): self.elements.remove(at: index)
            case (.none, .some(let value)): self.elements.append((key: key, value: value))
            case (.none, .none): break
            }
        }
    }

    /// Two documents are equal when they hold the same keys and values in the same order.
    public static func == (lhs: BSONDocument, rhs: BSONDocument) -> Bool {
        lhs.elements.count == rhs.elements.count
            && zip(lhs.elements, rhs.elements).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    /// Hashes the elements in order, consistent with `==`.
    public func hash(into hasher: inout Hasher) {
        for element in self.elements {
            hasher.combine(element.key)
            hasher.combine(element.value)
        }
    }
}

/// A 12-byte MongoDB ObjectId.
public struct BSONObjectID: Sendable, Hashable, CustomStringConvertible {
    /// The id's 12 bytes: a 4-byte big-endian timestamp in seconds, 5 random bytes, a 3-byte counter.
    public let bytes: [UInt8]

    /// Parses 24 hexadecimal characters; nil for anything else (so a user string can never become
    /// something other than an id).
    public init?(hex: String) {
        guard hex.utf8.count == 24 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(12)
        var iterator = hex.utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            guard let h = Self.nibble(high), let l = Self.nibble(low) else { return nil }
            bytes.append(h << 4 | l)
        }
        self.bytes = bytes
    }

    init(bytes: [UInt8]) {
        precondition(bytes.count == 12)
        self.bytes = bytes
    }

    /// A new id: 4-byte seconds, 5 random bytes, 3-byte counter, as the drivers make them.
    public static func generate() -> BSONObjectID {
        let seconds = UInt32(Date().timeIntervalSince1970)
        var bytes = withUnsafeBytes(of: seconds.bigEndian) { Array($0) }
        bytes += Self.processUnique
        let count = Self.counter.add()
        bytes += [
            UInt8(truncatingIfNeeded: count >> 16), UInt8(truncatingIfNeeded: count >> 8),
            UInt8(truncatingIfNeeded: count),
        ]
        return BSONObjectID(bytes: bytes)
    }

    /// 24 lowercase hexadecimal characters.
    public var hex: String {
        self.bytes.map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]], as: UTF8.self)
        }.joined()
    }

    /// The id as 24 lowercase hexadecimal characters, as the shell shows it inside `ObjectId(...)`.
    public var description: String { self.hex }

    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static let processUnique: [UInt8] = (0..<5).map { _ in UInt8.random(in: 0...255) }
    private static let counter = ObjectIDCounter()
}
