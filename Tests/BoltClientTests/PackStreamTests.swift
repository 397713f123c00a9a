import NIOCore
import Testing

@testable import BoltClient

@Suite struct PackStreamTests {
    private func bytes(_ value: BoltValue, elementIDs: Bool = true) -> [UInt8] {
        var buffer = ByteBuffer()
        PackStreamEncoder(elementIDs: elementIDs).encode(value, into: &buffer)
        return Array(buffer.readableBytesView)
    }

    private func roundTrip(_ value: BoltValue) throws -> BoltValue {
        var buffer = ByteBuffer(bytes: self.bytes(value))
        let decoded = try PackStreamDecoder.decode(&buffer)
        #expect(buffer.readableBytes == 0)
        return decoded
    }

    @Test func encodesIntegersInTheSmallestForm() {
        #expect(self.bytes(.int(1)) == [0x01])
        #expect(self.bytes(.int(-16)) == [0xF0])
        #expect(self.bytes(.int(-17)) == [0xC8, 0xEF])
        #expect(self.bytes(.int(127)) == [0x7F])
        #expect(self.bytes(.int(128)) == [0xC9, 0x00, 0x80])
        #expect(self.bytes(.int(-129)) == [0xC9, 0xFF, 0x7F])
        #expect(self.bytes(.int(32768)) == [0xCA, 0x00, 0x00, 0x80, 0x00])
        #expect(self.bytes(.int(2_147_483_648)) == [0xCB, 0, 0, 0, 0, 0x80, 0, 0, 0])
    }

    @Test func encodesScalarsAsTheSpecShowsThem() {
        #expect(self.bytes(.null) == [0xC0])
        #expect(self.bytes(.bool(true)) == [0xC3])
        #expect(self.bytes(.bool(false)) == [0xC2])
        #expect(self.bytes(.float(1.1)) == [0xC1, 0x3F, 0xF1, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9A])
        #expect(self.bytes(.string("A")) == [0x81, 0x41])
        #expect(self.bytes(.string("")) == [0x80])
        #expect(self.bytes(.bytes([1, 2])) == [0xCC, 0x02, 0x01, 0x02])
        #expect(self.bytes([1, 2]) == [0x92, 0x01, 0x02])
        #expect(self.bytes(["a": 1]) == [0xA1, 0x81, 0x61, 0x01])
    }

    @Test func sizesSwitchToLongerMarkersAtTheirLimits() {
        let sixteen = String(repeating: "x", count: 16)
        #expect(Array(self.bytes(.string(sixteen)).prefix(2)) == [0xD0, 0x10])
        let long = String(repeating: "x", count: 256)
        #expect(Array(self.bytes(.string(long)).prefix(3)) == [0xD1, 0x01, 0x00])
        let list = BoltValue.list(Array(repeating: .null, count: 16))
        #expect(Array(self.bytes(list).prefix(2)) == [0xD4, 0x10])
        let map = BoltValue.map(Dictionary(uniqueKeysWithValues: (0..<16).map { ("k\($0)", BoltValue.null) }))
        #expect(Array(self.bytes(map).prefix(2)) == [0xD8, 0x10])
        let big = String(repeating: "y", count: 70_000)
        #expect(Array(self.bytes(.string(big)).prefix(5)) == [0xD2, 0x00, 0x01, 0x11, 0x70])
    }

    @Test func everyValueTypeRoundTrips() throws {
        let node = BoltNode(id: 7, labels: ["User"], properties: ["user_id": "abc", "n": 0.0], elementID: "4:x:7")
        let values: [BoltValue] = [
            .null, true, false, 0, -1, 127, -16, -17, 200, -40_000, 3_000_000_000, .int(Int64.min), .int(Int64.max),
            1.5, .float(-0.0), .float(.infinity), "", "héllo ✓", .string(String(repeating: "z", count: 70_000)),
            .bytes([]), .bytes(Array(repeating: 9, count: 300)), [], [1, "a", [nil]],
            ["a": 1, "b": ["c": [true]]],
            .node(node),
            .relationship(
                BoltRelationship(
                    id: 1, startNodeID: 7, endNodeID: 8, type: "FOLLOWING", properties: ["timestamp": 5],
                    elementID: "5:x:1", startNodeElementID: "4:x:7", endNodeElementID: "4:x:8")),
            .unboundRelationship(BoltUnboundRelationship(id: 1, type: "F", properties: [:], elementID: "5:x:1")),
            .path(
                BoltPath(
                    nodes: [node], relationships: [BoltUnboundRelationship(id: 1, type: "F", properties: [:])],
                    indices: [1, 1])),
            .date(BoltDate(daysSinceEpoch: 19_000)),
            .time(BoltTime(nanoseconds: 3_600_000_000_000, offsetSeconds: 3600)),
            .localTime(BoltLocalTime(nanoseconds: 5)),
            .dateTime(BoltDateTime(seconds: 1_700_000_000, nanoseconds: 1, zone: .offset(seconds: -3600))),
            .dateTime(BoltDateTime(seconds: 1_700_000_000, nanoseconds: 1, zone: .id("Europe/Paris"))),
            .dateTime(BoltDateTime(seconds: 1, nanoseconds: 0, zone: .offset(seconds: 0), isUTC: false)),
            .dateTime(BoltDateTime(seconds: 1, nanoseconds: 0, zone: .id("UTC"), isUTC: false)),
            .localDateTime(BoltLocalDateTime(seconds: 10, nanoseconds: 20)),
            .duration(BoltDuration(months: 1, days: 2, seconds: 3, nanoseconds: 4)),
            .point(BoltPoint(srid: 7203, x: 1, y: 2)),
            .point(BoltPoint(srid: 9157, x: 1, y: 2, z: 3)),
            .structure(tag: 0x01, fields: [1, "x"]),
        ]
        for value in values {
            #expect(try self.roundTrip(value) == value)
        }
    }

    @Test func bolt4GraphStructuresHaveNoElementIDs() throws {
        let node = BoltNode(id: 7, labels: ["User"], properties: [:])
        let encoded = self.bytes(.node(node), elementIDs: false)
        #expect(Array(encoded.prefix(2)) == [0xB3, 0x4E])
        var buffer = ByteBuffer(bytes: encoded)
        #expect(
            try PackStreamDecoder.decode(&buffer)
                == .node(BoltNode(id: 7, labels: ["User"], properties: [:], elementID: "7")))
    }

    @Test func mapKeysAreWrittenSorted() {
        #expect(self.bytes(["b": 1, "a": 2]) == [0xA2, 0x81, 0x61, 0x02, 0x81, 0x62, 0x01])
    }

    @Test func rejectsMalformedInput() {
        let cases: [[UInt8]] = [
            [0xC1, 0x00],  // float cut short
            [0x85, 0x41],  // string cut short
            [0xD2, 0xFF, 0xFF, 0xFF, 0xFF],  // a size beyond the message
            [0xA1, 0x01, 0x01],  // map key not a string
            [0x82, 0xC3, 0x28],  // invalid UTF-8
            [0xE0],  // unknown marker
            [0xB1, 0x4E, 0x01],  // node with one field
            [0xB3, 0x4E, 0x81, 0x61, 0x90, 0xA0],  // node id not an integer
        ]
        for bytes in cases {
            var buffer = ByteBuffer(bytes: bytes)
            #expect(throws: PackStreamError.self) { try PackStreamDecoder.decode(&buffer) }
        }
    }

    @Test func refusesNestingDeeperThanTheLimit() {
        var buffer = ByteBuffer(bytes: Array(repeating: 0x91, count: 100) + [0x01])
        #expect(throws: PackStreamError.self) { try PackStreamDecoder.decode(&buffer) }
    }

    @Test func decodesResponses() throws {
        var buffer = ByteBuffer()
        BoltResponse.failure(["code": "Neo.ClientError.Statement.SyntaxError", "message": "bad"]).encode(into: &buffer)
        let response = try BoltResponse.decode(from: &buffer)
        #expect(response == .failure(["code": "Neo.ClientError.Statement.SyntaxError", "message": "bad"]))
        var notAResponse = ByteBuffer(bytes: [0xB1, 0x10, 0xA0])
        #expect(throws: PackStreamError.self) { try BoltResponse.decode(from: &notAResponse) }
    }
}
