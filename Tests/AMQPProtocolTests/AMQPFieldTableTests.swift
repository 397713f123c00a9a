import NIOCore
import Testing

@testable import AMQPProtocol

@Suite("AMQP field tables and properties")
struct AMQPFieldTableTests {
    @Test func everyFieldTypeRoundTrips() throws {
        let table: AMQPFieldTable = [
            "t": .bool(false), "b": .int8(Int8.min), "B": .uint8(UInt8.max), "s": .int16(Int16.min),
            "u": .uint16(UInt16.max), "I": .int32(Int32.min), "i": .uint32(UInt32.max), "l": .int64(Int64.max),
            "f": .float(-0.5), "d": .double(Double.greatestFiniteMagnitude), "D": .decimal(scale: 3, value: 1),
            "S": .longString(""), "x": .bytes([]), "A": .array([]), "A2": .array([.array([.void]), .table([:])]),
            "T": .timestamp(0), "F": .table(["deep": .table(["deeper": .longString("✓")])]), "V": .void,
        ]
        var buffer = ByteBuffer()
        try table.encode(into: &buffer)
        let decoded = try AMQPFieldTable.decode(from: &buffer)
        #expect(decoded == table)
        #expect(decoded.entries.map(\.key) == table.entries.map(\.key))
        #expect(buffer.readableBytes == 0)
    }

    @Test func tableBytesFollowTheSpecification() throws {
        var buffer = ByteBuffer()
        let table: AMQPFieldTable = ["a": .bool(true)]
        try table.encode(into: &buffer)
        #expect(Array(buffer: buffer) == [0, 0, 0, 4, 1, 0x61, 0x74, 1])
    }

    @Test func unknownFieldTypeIsAnError() {
        var buffer = ByteBuffer(bytes: [0, 0, 0, 4, 1, 0x61, 0x7A, 1])
        #expect(throws: AMQPProtocolError("unknown field value type z")) { try AMQPFieldTable.decode(from: &buffer) }
    }

    @Test func subscriptReplacesAppendsAndRemovesInPlace() {
        var table: AMQPFieldTable = ["a": 1, "b": 2]
        table["a"] = "one"
        table["c"] = true
        table["b"] = nil
        #expect(table.entries.map(\.key) == ["a", "c"])
        #expect(table["a"]?.stringValue == "one")
        #expect(table["missing"] == nil)
    }

    @Test func propertiesWithEveryFieldRoundTrip() throws {
        let properties = AMQPBasicProperties(
            contentType: "application/json", contentEncoding: "gzip", headers: ["x-retry-count": .int32(2)],
            deliveryMode: 2, priority: 9, correlationID: "c", replyTo: "amq.rabbitmq.reply-to", expiration: "1000",
            messageID: "m", timestamp: 1_700_000_000, type: "t", userID: "guest", appID: "a", clusterID: "cl"
        )
        let header = AMQPContentHeader(bodySize: 12, properties: properties)
        var buffer = ByteBuffer()
        try AMQPFrame.header(channel: 1, header).encode(into: &buffer)
        var decoder = AMQPFrameDecoder()
        #expect(try decoder.decode(buffer: &buffer) == .header(channel: 1, header))
    }

    @Test func propertyFlagsMarkOnlyWhatIsSet() throws {
        var buffer = ByteBuffer()
        try AMQPFrame.header(
            channel: 1,
            AMQPContentHeader(bodySize: 0, properties: AMQPBasicProperties(contentType: "a", deliveryMode: 2))
        ).encode(into: &buffer)
        // type, channel, size, class 60, weight 0, body size 0, flags 0x9000 (bits 15 and 12).
        let flags = buffer.getInteger(at: 7 + 12, as: UInt16.self)
        #expect(flags == 0x9000)
    }

    @Test func noPropertiesIsAllZeroFlags() throws {
        var buffer = ByteBuffer()
        try AMQPFrame.header(channel: 1, AMQPContentHeader(bodySize: 2, properties: AMQPBasicProperties()))
            .encode(into: &buffer)
        #expect(buffer.getInteger(at: 7 + 12, as: UInt16.self) == 0)
    }
}
