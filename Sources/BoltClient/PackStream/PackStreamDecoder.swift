import NIOCore

/// What is wrong with PackStream bytes from the server.
public struct PackStreamError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What was wrong, e.g. an unexpected marker, too deep nesting or an oversized message.
    public var reason: String
    /// The reason prefixed with "PackStream", for logs.
    public var description: String { "PackStream: \(self.reason)" }
}

/// Reads PackStream v1 values from a whole Bolt message (chunks already joined), so running out of
/// bytes is an error rather than a short read.
enum PackStreamDecoder {
    /// Nesting deeper than this is refused, so a hostile server cannot exhaust the stack.
    static let maximumDepth = 64

    static func decode(_ buffer: inout ByteBuffer) throws(PackStreamError) -> BoltValue {
        try self.decode(&buffer, depth: 0)
    }

    /// Reads a structure header, returning its field count and tag.
    static func readStructureHeader(_ buffer: inout ByteBuffer) throws(PackStreamError) -> (size: Int, tag: UInt8) {
        let marker = try self.readByte(&buffer)
        guard marker & 0xF0 == PackStreamMarker.tinyStruct else {
            throw PackStreamError(reason: "expected a structure, found marker 0x\(String(marker, radix: 16))")
        }
        return (Int(marker & 0x0F), try self.readByte(&buffer))
    }

    private static func decode(_ buffer: inout ByteBuffer, depth: Int) throws(PackStreamError) -> BoltValue {
        guard depth < self.maximumDepth else {
            throw PackStreamError(reason: "nesting deeper than \(self.maximumDepth)")
        }
        let marker = try self.readByte(&buffer)
        switch marker {
        case 0x00...0x7F: return .int(Int64(marker))
        case 0xF0...0xFF: return .int(Int64(Int8(bitPattern: marker)))
        case PackStreamMarker.null: return .null
        case PackStreamMarker.false: return .bool(false)
        case PackStreamMarker.true: return .bool(true)
        case PackStreamMarker.float64: return .float(Double(bitPattern: try self.read(UInt64.self, &buffer)))
        case PackStreamMarker.int8: return .int(Int64(try self.read(Int8.self, &buffer)))
        case PackStreamMarker.int16: return .int(Int64(try self.read(Int16.self, &buffer)))
        case PackStreamMarker.int32: return .int(Int64(try self.read(Int32.self, &buffer)))
        case PackStreamMarker.int64: return .int(try self.read(Int64.self, &buffer))
        case PackStreamMarker.bytes8, PackStreamMarker.bytes16, PackStreamMarker.bytes32:
            let size = try self.readSize(marker - PackStreamMarker.bytes8, &buffer)
            guard let bytes = buffer.readBytes(length: size) else { throw PackStreamError(reason: "bytes cut short") }
            return .bytes(bytes)
        case 0x80...0x8F: return .string(try self.readString(Int(marker & 0x0F), &buffer))
        case PackStreamMarker.string8, PackStreamMarker.string16, PackStreamMarker.string32:
            return .string(try self.readString(try self.readSize(marker - PackStreamMarker.string8, &buffer), &buffer))
        case 0x90...0x9F: return .list(try self.readList(Int(marker & 0x0F), &buffer, depth: depth))
        case PackStreamMarker.list8, PackStreamMarker.list16, PackStreamMarker.list32:
            let size = try self.readSize(marker - PackStreamMarker.list8, &buffer)
            return .list(try self.readList(size, &buffer, depth: depth))
        case 0xA0...0xAF: return .map(try self.readMap(Int(marker & 0x0F), &buffer, depth: depth))
        case PackStreamMarker.map8, PackStreamMarker.map16, PackStreamMarker.map32:
            let size = try self.readSize(marker - PackStreamMarker.map8, &buffer)
            return .map(try self.readMap(size, &buffer, depth: depth))
        case 0xB0...0xBF:
            let tag = try self.readByte(&buffer)
            let fields = try self.readList(Int(marker & 0x0F), &buffer, depth: depth)
            return try self.structure(tag: tag, fields: fields)
        default:
            throw PackStreamError(reason: "unknown marker 0x\(String(marker, radix: 16))")
        }
    }

    // MARK: Structures

    static func structure(tag: UInt8, fields: [BoltValue]) throws(PackStreamError) -> BoltValue {
        var reader = FieldReader(tag: tag, fields: fields)
        switch tag {
        case PackStreamTag.node:
            try reader.expect(3, 4)
            return .node(try reader.node())
        case PackStreamTag.relationship:
            try reader.expect(5, 8)
            let id = try reader.int()
            let start = try reader.int()
            let end = try reader.int()
            let type = try reader.string()
            let properties = try reader.map()
            return .relationship(
                BoltRelationship(
                    id: id, startNodeID: start, endNodeID: end, type: type, properties: properties,
                    elementID: try reader.optionalString(), startNodeElementID: try reader.optionalString(),
                    endNodeElementID: try reader.optionalString()))
        case PackStreamTag.unboundRelationship:
            try reader.expect(3, 4)
            return .unboundRelationship(try reader.unboundRelationship())
        case PackStreamTag.path:
            try reader.expect(3)
            let nodes = try reader.list().map { value throws(PackStreamError) in
                guard case .node(let node) = value else { throw PackStreamError(reason: "a path node is not a node") }
                return node
            }
            let relationships = try reader.list().map { value throws(PackStreamError) in
                guard case .unboundRelationship(let relationship) = value else {
                    throw PackStreamError(reason: "a path relationship is not an unbound relationship")
                }
                return relationship
            }
            let indices = try reader.list().map { value throws(PackStreamError) in
                guard case .int(let index) = value else {
                    throw PackStreamError(reason: "a path index is not an integer")
                }
                return index
            }
            return .path(BoltPath(nodes: nodes, relationships: relationships, indices: indices))
        case PackStreamTag.date:
            try reader.expect(1)
            return .date(BoltDate(daysSinceEpoch: try reader.int()))
        case PackStreamTag.time:
            try reader.expect(2)
            return .time(BoltTime(nanoseconds: try reader.int(), offsetSeconds: try reader.int()))
        case PackStreamTag.localTime:
            try reader.expect(1)
            return .localTime(BoltLocalTime(nanoseconds: try reader.int()))
        case PackStreamTag.dateTimeUTC, PackStreamTag.dateTimeLegacy:
            try reader.expect(3)
            return .dateTime(
                BoltDateTime(
                    seconds: try reader.int(), nanoseconds: try reader.int(), zone: .offset(seconds: try reader.int()),
                    isUTC: tag == PackStreamTag.dateTimeUTC))
        case PackStreamTag.dateTimeZoneIDUTC, PackStreamTag.dateTimeZoneIDLegacy:
            try reader.expect(3)
            return .dateTime(
                BoltDateTime(
                    seconds: try reader.int(), nanoseconds: try reader.int(), zone: .id(try reader.string()),
                    isUTC: tag == PackStreamTag.dateTimeZoneIDUTC))
        case PackStreamTag.localDateTime:
            try reader.expect(2)
            return .localDateTime(BoltLocalDateTime(seconds: try reader.int(), nanoseconds: try reader.int()))
        case PackStreamTag.duration:
            try reader.expect(4)
            return .duration(
                BoltDuration(
                    months: try reader.int(), days: try reader.int(), seconds: try reader.int(),
                    nanoseconds: try reader.int()))
        case PackStreamTag.point2D:
            try reader.expect(3)
            return .point(BoltPoint(srid: try reader.int(), x: try reader.double(), y: try reader.double()))
        case PackStreamTag.point3D:
            try reader.expect(4)
            return .point(
                BoltPoint(
                    srid: try reader.int(), x: try reader.double(), y: try reader.double(), z: try reader.double()))
        default:
            return .structure(tag: tag, fields: fields)
        }
    }

    // MARK: Primitives

    private static func readByte(_ buffer: inout ByteBuffer) throws(PackStreamError) -> UInt8 {
        try self.read(UInt8.self, &buffer)
    }

    private static func read<T: FixedWidthInteger>(_ type: T.Type, _ buffer: inout ByteBuffer) throws(PackStreamError)
        -> T
    {
        guard let value = buffer.readInteger(as: T.self) else { throw PackStreamError(reason: "value cut short") }
        return value
    }

    /// Reads an 8, 16 or 32 bit size (`width` 0, 1 or 2).
    private static func readSize(_ width: UInt8, _ buffer: inout ByteBuffer) throws(PackStreamError) -> Int {
        let size: Int
        switch width {
        case 0: size = Int(try self.read(UInt8.self, &buffer))
        case 1: size = Int(try self.read(UInt16.self, &buffer))
        default: size = Int(try self.read(UInt32.self, &buffer))
        }
        // Every element takes at least one byte, so a size beyond the bytes left is a lie.
        guard size <= buffer.readableBytes else { throw PackStreamError(reason: "size \(size) beyond the message") }
        return size
    }

    private static func readString(_ size: Int, _ buffer: inout ByteBuffer) throws(PackStreamError) -> String {
        guard let bytes = buffer.readSlice(length: size) else { throw PackStreamError(reason: "string cut short") }
        guard let string = String(validating: bytes.readableBytesView, as: UTF8.self) else {
            throw PackStreamError(reason: "a string is not valid UTF-8")
        }
        return string
    }

    private static func readList(_ size: Int, _ buffer: inout ByteBuffer, depth: Int) throws(PackStreamError)
        -> [BoltValue]
    {
        var list: [BoltValue] = []
        list.reserveCapacity(min(size, 1024))
        for _ in 0..<size {
            list.append(try self.decode(&buffer, depth: depth + 1))
        }
        return list
    }

    private static func readMap(_ size: Int, _ buffer: inout ByteBuffer, depth: Int) throws(PackStreamError) -> [String:
        BoltValue]
    {
        var map: [String: BoltValue] = [:]
        map.reserveCapacity(min(size, 1024))
        for _ in 0..<size {
            guard case .string(let key) = try self.decode(&buffer, depth: depth + 1) else {
                throw PackStreamError(reason: "a map key is not a string")
            }
            map[key] = try self.decode(&buffer, depth: depth + 1)
        }
        return map
    }
}

/// Reads the fields of one structure in order, checking each type.
private struct FieldReader {
    let tag: UInt8
    let fields: [BoltValue]
    var index = 0

    init(tag: UInt8, fields: [BoltValue]) {
        self.tag = tag
        self.fields = fields
    }

    func expect(_ counts: Int...) throws(PackStreamError) {
        guard counts.contains(self.fields.count) else {
            throw PackStreamError(reason: "structure 0x\(String(self.tag, radix: 16)) with \(self.fields.count) fields")
        }
    }

    private mutating func next() -> BoltValue? {
        guard self.index < self.fields.count else { return nil }
        defer { self.index += 1 }
        return self.fields[self.index]
    }

    private func wrong(_ what: String) -> PackStreamError {
        PackStreamError(reason: "field \(self.index) of structure 0x\(String(self.tag, radix: 16)) is not \(what)")
    }

    mutating func int() throws(PackStreamError) -> Int64 {
        guard case .int(let value) = self.next() else { throw self.wrong("an integer") }
        return value
    }

    mutating func double() throws(PackStreamError) -> Double {
        guard case .float(let value) = self.next() else { throw self.wrong("a float") }
        return value
    }

    mutating func string() throws(PackStreamError) -> String {
        guard case .string(let value) = self.next() else { throw self.wrong("a string") }
        return value
    }

    mutating func optionalString() throws(PackStreamError) -> String? {
        switch self.next() {
        case .none, .null: return nil
        case .string(let value): return value
        default: throw self.wrong("a string")
        }
    }

    mutating func list() throws(PackStreamError) -> [BoltValue] {
        guard case .list(let value) = self.next() else { throw self.wrong("a list") }
        return value
    }

    mutating func map() throws(PackStreamError) -> [String: BoltValue] {
        guard case .map(let value) = self.next() else { throw self.wrong("a map") }
        return value
    }

    mutating func node() throws(PackStreamError) -> BoltNode {
        let id = try self.int()
        let labels = try self.list().map { value throws(PackStreamError) in
            guard case .string(let label) = value else { throw self.wrong("a list of labels") }
            return label
        }
        return BoltNode(id: id, labels: labels, properties: try self.map(), elementID: try self.optionalString())
    }

    mutating func unboundRelationship() throws(PackStreamError) -> BoltUnboundRelationship {
        BoltUnboundRelationship(
            id: try self.int(), type: try self.string(), properties: try self.map(),
            elementID: try self.optionalString())
    }
}
