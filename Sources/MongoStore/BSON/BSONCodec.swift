/// The BSON binary format (bsonspec.org, version 1.1), little-endian, in pure Swift.
public enum BSONCodec {
    /// What is wrong with bytes or a document, with the path of the element.
    public struct Error: Swift.Error, Equatable, CustomStringConvertible, Sendable {
        /// The dotted path of the element at fault (e.g. `user.tags.2`); empty for the document itself.
        public var path: String
        /// What was wrong, without the element's value.
        public var reason: String
        /// `path: reason`, or the reason alone at the top level.
        public var description: String { self.path.isEmpty ? self.reason : "\(self.path): \(self.reason)" }
    }

    // MARK: Encoding

    /// The bytes of `document`.
    ///
    /// - Throws: ``Error`` for a key containing a NUL byte (it would end the key early).
    public static func encode(_ document: BSONDocument) throws(Error) -> [UInt8] {
        var bytes: [UInt8] = []
        try self.append(document, to: &bytes, path: "")
        return bytes
    }

    private static func append(_ document: BSONDocument, to bytes: inout [UInt8], path: String) throws(Error) {
        let start = bytes.count
        bytes += [0, 0, 0, 0]
        for (key, value) in document.elements {
            let elementPath = path.isEmpty ? key : "\(path).\(key)"
            guard !key.utf8.contains(0) else {
                throw Error(path: path, reason: "a key contains a NUL byte")
            }
            bytes.append(value.typeByte)
            bytes += key.utf8
            bytes.append(0)
            try self.append(value, to: &bytes, path: elementPath)
        }
        bytes.append(0)
        self.setInt32(Int32(bytes.count - start), at: start, in: &bytes)
    }

    private static func append(_ value: BSON, to bytes: inout [UInt8], path: String) throws(Error) {
        switch value {
        case .double(let double): self.appendInteger(double.bitPattern, to: &bytes)
        case .string(let string):
            self.appendInteger(Int32(string.utf8.count + 1), to: &bytes)
            bytes += string.utf8
            bytes.append(0)
        case .document(let document): try self.append(document, to: &bytes, path: path)
        case .array(let values):
            let document = BSONDocument(values.enumerated().map { (String($0.offset), $0.element) })
            try self.append(document, to: &bytes, path: path)
        case .binary(let subtype, let data):
            self.appendInteger(Int32(data.count), to: &bytes)
            bytes.append(subtype)
            bytes += data
        case .objectID(let id): bytes += id.bytes
        case .bool(let bool): bytes.append(bool ? 1 : 0)
        case .datetime(let millis): self.appendInteger(millis, to: &bytes)
        case .null: break
        case .int32(let int): self.appendInteger(int, to: &bytes)
        case .int64(let int): self.appendInteger(int, to: &bytes)
        case .decimal128(let raw):
            guard raw.count == 16 else { throw Error(path: path, reason: "decimal128 needs 16 bytes") }
            bytes += raw
        case .timestamp(let increment, let seconds):
            self.appendInteger(increment, to: &bytes)
            self.appendInteger(seconds, to: &bytes)
        case .regularExpression(let pattern, let options):
            guard !pattern.utf8.contains(0), !options.utf8.contains(0) else {
                throw Error(path: path, reason: "a regular expression contains a NUL byte")
            }
            bytes += pattern.utf8
            bytes.append(0)
            bytes += options.utf8
            bytes.append(0)
        case .minKey, .maxKey: break
        }
    }

    private static func appendInteger<Value: FixedWidthInteger>(_ value: Value, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    private static func setInt32(_ value: Int32, at index: Int, in bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { raw in
            for offset in 0..<4 {
                bytes[index + offset] = raw[offset]
            }
        }
    }

    // MARK: Decoding

    /// Reads one document that fills `bytes` exactly.
    public static func decode(_ bytes: [UInt8]) throws(Error) -> BSONDocument {
        var reader = Reader(bytes: bytes, index: 0)
        let document = try reader.document(path: "")
        guard reader.index == bytes.count else {
            throw Error(path: "", reason: "\(bytes.count - reader.index) bytes after the document")
        }
        return document
    }

    struct Reader {
        let bytes: [UInt8]
        var index: Int

        mutating func integer<Value: FixedWidthInteger>(_: Value.Type, path: String) throws(Error) -> Value {
            let size = MemoryLayout<Value>.size
            guard self.index + size <= self.bytes.count else { throw Error(path: path, reason: "truncated") }
            var value: Value = 0
            for offset in (0..<size).reversed() {
                value = value << 8 | Value(self.bytes[self.index + offset])
            }
            self.index += size
            return value
        }

        mutating func take(_ count: Int, path: String) throws(Error) -> ArraySlice<UInt8> {
            guard count >= 0, self.index + count <= self.bytes.count else {
                throw Error(path: path, reason: "truncated")
            }
            defer { self.index += count }
            return self.bytes[self.index..<self.index + count]
        }

        mutating func cString(path: String) throws(Error) -> String {
            guard let end = self.bytes[self.index...].firstIndex(of: 0) else {
                throw Error(path: path, reason: "unterminated key")
            }
            let text = self.bytes[self.index..<end]
            self.index = end + 1
            guard let string = String(validating: text, as: UTF8.self) else {
                throw Error(path: path, reason: "key is not UTF-8")
            }
            return string
        }

        mutating func document(path: String) throws(Error) -> BSONDocument {
            let start = self.index
            let length = Int(try self.integer(Int32.self, path: path))
            guard length >= 5, start + length <= self.bytes.count else {
                throw Error(path: path, reason: "document length \(length) is out of bounds")
            }
            var document = BSONDocument()
            while true {
                let type = try self.integer(UInt8.self, path: path)
                if type == 0 { break }
                let key = try self.cString(path: path)
                let elementPath = path.isEmpty ? key : "\(path).\(key)"
                document[key] = try self.value(type: type, path: elementPath)
            }
            guard self.index == start + length else {
                throw Error(path: path, reason: "document length \(length) does not match its contents")
            }
            return document
        }

        mutating func value(type: UInt8, path: String) throws(Error) -> BSON {
            switch type {
            case 0x01: return .double(Double(bitPattern: try self.integer(UInt64.self, path: path)))
            case 0x02:
                let length = Int(try self.integer(Int32.self, path: path))
                guard length >= 1 else { throw Error(path: path, reason: "string length \(length)") }
                let bytes = try self.take(length, path: path)
                guard bytes.last == 0, let string = String(validating: bytes.dropLast(), as: UTF8.self) else {
                    throw Error(path: path, reason: "string is not NUL-terminated UTF-8")
                }
                return .string(string)
            case 0x03: return .document(try self.document(path: path))
            case 0x04: return .array(try self.document(path: path).elements.map(\.value))
            case 0x05:
                let length = Int(try self.integer(Int32.self, path: path))
                let subtype = try self.integer(UInt8.self, path: path)
                return .binary(subtype: subtype, bytes: Array(try self.take(length, path: path)))
            case 0x07: return .objectID(BSONObjectID(bytes: Array(try self.take(12, path: path))))
            case 0x08:
                switch try self.integer(UInt8.self, path: path) {
                case 0: return .bool(false)
                case 1: return .bool(true)
                case let other: throw Error(path: path, reason: "boolean byte \(other)")
                }
            case 0x09: return .datetime(try self.integer(Int64.self, path: path))
            case 0x0A: return .null
            case 0x10: return .int32(try self.integer(Int32.self, path: path))
            case 0x12: return .int64(try self.integer(Int64.self, path: path))
            case 0x13: return .decimal128(Array(try self.take(16, path: path)))
            case 0x11:
                let increment = try self.integer(UInt32.self, path: path)
                return .timestamp(increment: increment, seconds: try self.integer(UInt32.self, path: path))
            case 0x0B:
                let pattern = try self.cString(path: path)
                return .regularExpression(pattern: pattern, options: try self.cString(path: path))
            case 0xFF: return .minKey
            case 0x7F: return .maxKey
            default: throw Error(path: path, reason: "BSON type 0x\(String(type, radix: 16)) is not supported")
            }
        }
    }
}
