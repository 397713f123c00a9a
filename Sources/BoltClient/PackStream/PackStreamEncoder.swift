import NIOCore

/// Writes PackStream v1 values. `elementIDs` adds the Bolt 5 element id fields to graph structures.
struct PackStreamEncoder {
    var elementIDs: Bool

    init(elementIDs: Bool = true) {
        self.elementIDs = elementIDs
    }

    func encode(_ value: BoltValue, into buffer: inout ByteBuffer) {
        switch value {
        case .null: buffer.writeInteger(PackStreamMarker.null)
        case .bool(let bool): buffer.writeInteger(bool ? PackStreamMarker.true : PackStreamMarker.false)
        case .int(let int): Self.encodeInt(int, into: &buffer)
        case .float(let double):
            buffer.writeInteger(PackStreamMarker.float64)
            buffer.writeInteger(double.bitPattern)
        case .string(let string): Self.encodeString(string, into: &buffer)
        case .bytes(let bytes):
            Self.writeSize(
                bytes.count, tiny: nil,
                markers: (PackStreamMarker.bytes8, PackStreamMarker.bytes16, PackStreamMarker.bytes32), into: &buffer)
            buffer.writeBytes(bytes)
        case .list(let list):
            Self.writeSize(
                list.count, tiny: PackStreamMarker.tinyList,
                markers: (PackStreamMarker.list8, PackStreamMarker.list16, PackStreamMarker.list32), into: &buffer)
            for element in list {
                self.encode(element, into: &buffer)
            }
        case .map(let map): self.encodeMap(map, into: &buffer)
        case .node(let node):
            var fields: [BoltValue] = [.int(node.id), .list(node.labels.map(BoltValue.string)), .map(node.properties)]
            if self.elementIDs { fields.append(.string(node.elementID)) }
            self.encodeStructure(PackStreamTag.node, fields, into: &buffer)
        case .relationship(let relationship):
            var fields: [BoltValue] = [
                .int(relationship.id), .int(relationship.startNodeID), .int(relationship.endNodeID),
                .string(relationship.type), .map(relationship.properties),
            ]
            if self.elementIDs {
                fields += [
                    .string(relationship.elementID), .string(relationship.startNodeElementID),
                    .string(relationship.endNodeElementID),
                ]
            }
            self.encodeStructure(PackStreamTag.relationship, fields, into: &buffer)
        case .unboundRelationship(let relationship):
            var fields: [BoltValue] = [
                .int(relationship.id), .string(relationship.type), .map(relationship.properties),
            ]
            if self.elementIDs { fields.append(.string(relationship.elementID)) }
            self.encodeStructure(PackStreamTag.unboundRelationship, fields, into: &buffer)
        case .path(let path):
            let fields: [BoltValue] = [
                .list(path.nodes.map(BoltValue.node)),
                .list(path.relationships.map(BoltValue.unboundRelationship)),
                .list(path.indices.map(BoltValue.int)),
            ]
            self.encodeStructure(PackStreamTag.path, fields, into: &buffer)
        case .date(let date): self.encodeStructure(PackStreamTag.date, [.int(date.daysSinceEpoch)], into: &buffer)
        case .time(let time):
            self.encodeStructure(PackStreamTag.time, [.int(time.nanoseconds), .int(time.offsetSeconds)], into: &buffer)
        case .localTime(let time):
            self.encodeStructure(PackStreamTag.localTime, [.int(time.nanoseconds)], into: &buffer)
        case .dateTime(let dateTime):
            switch dateTime.zone {
            case .offset(let offset):
                let tag = dateTime.isUTC ? PackStreamTag.dateTimeUTC : PackStreamTag.dateTimeLegacy
                self.encodeStructure(
                    tag, [.int(dateTime.seconds), .int(dateTime.nanoseconds), .int(offset)], into: &buffer)
            case .id(let zone):
                let tag = dateTime.isUTC ? PackStreamTag.dateTimeZoneIDUTC : PackStreamTag.dateTimeZoneIDLegacy
                self.encodeStructure(
                    tag, [.int(dateTime.seconds), .int(dateTime.nanoseconds), .string(zone)], into: &buffer)
            }
        case .localDateTime(let dateTime):
            self.encodeStructure(
                PackStreamTag.localDateTime, [.int(dateTime.seconds), .int(dateTime.nanoseconds)], into: &buffer)
        case .duration(let duration):
            let fields: [BoltValue] = [
                .int(duration.months), .int(duration.days), .int(duration.seconds), .int(duration.nanoseconds),
            ]
            self.encodeStructure(PackStreamTag.duration, fields, into: &buffer)
        case .point(let point):
            if let z = point.z {
                self.encodeStructure(
                    PackStreamTag.point3D, [.int(point.srid), .float(point.x), .float(point.y), .float(z)],
                    into: &buffer)
            } else {
                self.encodeStructure(
                    PackStreamTag.point2D, [.int(point.srid), .float(point.x), .float(point.y)], into: &buffer)
            }
        case .structure(let tag, let fields): self.encodeStructure(tag, fields, into: &buffer)
        }
    }

    /// Writes a map with its keys sorted.
    func encodeMap(_ map: [String: BoltValue], into buffer: inout ByteBuffer) {
        Self.writeSize(
            map.count, tiny: PackStreamMarker.tinyMap,
            markers: (PackStreamMarker.map8, PackStreamMarker.map16, PackStreamMarker.map32), into: &buffer)
        for key in map.keys.sorted() {
            Self.encodeString(key, into: &buffer)
            if let value = map[key] {
                self.encode(value, into: &buffer)
            }
        }
    }

    /// Writes a structure header (at most 15 fields) and its fields.
    func encodeStructure(_ tag: UInt8, _ fields: [BoltValue], into buffer: inout ByteBuffer) {
        precondition(fields.count < 16, "a PackStream structure has at most 15 fields")
        buffer.writeInteger(PackStreamMarker.tinyStruct | UInt8(fields.count))
        buffer.writeInteger(tag)
        for field in fields {
            self.encode(field, into: &buffer)
        }
    }

    static func encodeInt(_ value: Int64, into buffer: inout ByteBuffer) {
        switch value {
        case -16...127: buffer.writeInteger(Int8(value))
        case Int64(Int8.min)...Int64(Int8.max):
            buffer.writeInteger(PackStreamMarker.int8)
            buffer.writeInteger(Int8(value))
        case Int64(Int16.min)...Int64(Int16.max):
            buffer.writeInteger(PackStreamMarker.int16)
            buffer.writeInteger(Int16(value))
        case Int64(Int32.min)...Int64(Int32.max):
            buffer.writeInteger(PackStreamMarker.int32)
            buffer.writeInteger(Int32(value))
        default:
            buffer.writeInteger(PackStreamMarker.int64)
            buffer.writeInteger(value)
        }
    }

    static func encodeString(_ string: String, into buffer: inout ByteBuffer) {
        let utf8 = string.utf8
        Self.writeSize(
            utf8.count, tiny: PackStreamMarker.tinyString,
            markers: (PackStreamMarker.string8, PackStreamMarker.string16, PackStreamMarker.string32), into: &buffer)
        buffer.writeBytes(utf8)
    }

    private static func writeSize(
        _ size: Int, tiny: UInt8?, markers: (UInt8, UInt8, UInt8), into buffer: inout ByteBuffer
    ) {
        if let tiny, size < 16 {
            buffer.writeInteger(tiny | UInt8(size))
        } else if size <= Int(UInt8.max) {
            buffer.writeInteger(markers.0)
            buffer.writeInteger(UInt8(size))
        } else if size <= Int(UInt16.max) {
            buffer.writeInteger(markers.1)
            buffer.writeInteger(UInt16(size))
        } else {
            buffer.writeInteger(markers.2)
            buffer.writeInteger(UInt32(truncatingIfNeeded: size))
        }
    }
}
