import CLibMongoc
import Testing

@testable import MongoStore

@Suite("BSON codec")
struct BSONCodecTests {
    static let id = BSONObjectID(hex: "665f1c2e9b1d4a0012345678")

    static let everyType: BSONDocument = [
        "double": .double(-1.5), "string": .string("héllo ✓"), "document": .document(["nested": .int32(1)]),
        "array": .array([.int32(1), .string("two"), .document([:])]),
        "binary": .binary(subtype: 0, bytes: [0, 1, 255]),
        "objectID": .objectID(BSONCodecTests.id ?? .generate()), "bool": .bool(true),
        "datetime": .datetime(-86_400_000),
        "null": .null, "int32": .int32(Int32.min), "int64": .int64(Int64.max),
        "decimal128": .decimal128([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x30]),
        "ключ": .string("unicode key"),
        "timestamp": .timestamp(increment: 7, seconds: 1_700_000_000),
        "regex": .regularExpression(pattern: "^a.*", options: "i"),
        "min": .minKey, "max": .maxKey,
        "empty": .document([:]),
    ]

    @Test func everyTypeRoundTripsInOrder() throws {
        let bytes = try BSONCodec.encode(Self.everyType)
        let decoded = try BSONCodec.decode(bytes)
        #expect(decoded == Self.everyType)
        #expect(decoded.keys == Self.everyType.keys)
    }

    @Test func bytesMatchWhatLibbsonWrites() throws {
        let bson = bson_new()
        defer { bson_destroy(bson) }
        #expect(bson_append_double(bson, "d", -1, 2.5))
        let appended = "s".withCString { key in "x✓".withCString { value in bson_append_utf8(bson, key, -1, value, -1) }
        }
        #expect(appended)
        #expect(bson_append_int32(bson, "i", -1, -7))
        #expect(bson_append_int64(bson, "l", -1, Int64.min))
        #expect(bson_append_bool(bson, "b", -1, false))
        #expect(bson_append_date_time(bson, "t", -1, -1))
        #expect(bson_append_null(bson, "n", -1))
        var oid = bson_oid_t()
        bson_oid_init_from_string(&oid, "665f1c2e9b1d4a0012345678")
        #expect(bson_append_oid(bson, "o", -1, &oid))
        let child = bson_new()
        #expect(bson_append_int32(child, "0", -1, 1))
        #expect(bson_append_array(bson, "a", -1, child))
        bson_destroy(child)
        let data = try #require(bson_get_data(bson))
        let length = Int(data[0]) | Int(data[1]) << 8 | Int(data[2]) << 16 | Int(data[3]) << 24
        let libbson = Array(UnsafeBufferPointer(start: data, count: length))
        let ours: BSONDocument = [
            "d": .double(2.5), "s": .string("x✓"), "i": .int32(-7), "l": .int64(Int64.min), "b": .bool(false),
            "t": .datetime(-1), "n": .null, "o": .objectID(try #require(Self.id)), "a": .array([.int32(1)]),
        ]
        #expect(try BSONCodec.encode(ours) == libbson)
        #expect(try BSONCodec.decode(libbson) == ours)
    }

    @Test func emptyDocumentIsFiveBytes() throws {
        #expect(try BSONCodec.encode([:]) == [5, 0, 0, 0, 0])
    }

    @Test func malformedBytesNameThePath() throws {
        var bytes = try BSONCodec.encode(["outer": .document(["inner": .string("abc")])])
        // Corrupt the inner string's length.
        let stringLengthIndex = 4 + 1 + 6 + 4 + 1 + 6
        bytes[stringLengthIndex] = 0x7F
        let error = try #require(throws: BSONCodec.Error.self) { try BSONCodec.decode(bytes) }
        #expect(error.path.hasPrefix("outer"))
        #expect(throws: BSONCodec.Error(path: "", reason: "document length 4 is out of bounds")) {
            try BSONCodec.decode([4, 0, 0, 0])
        }
        #expect(throws: BSONCodec.Error(path: "", reason: "a key contains a NUL byte")) {
            try BSONCodec.encode(["a\u{0}b": .null])
        }
    }

    @Test func objectIDsOnlyFromTwentyFourHexCharacters() throws {
        #expect(BSONObjectID(hex: "665f1c2e9b1d4a0012345678")?.hex == "665f1c2e9b1d4a0012345678")
        #expect(BSONObjectID(hex: "665F1C2E9B1D4A0012345678")?.hex == "665f1c2e9b1d4a0012345678")
        for invalid in [
            "", "665f1c2e9b1d4a001234567", "665f1c2e9b1d4a00123456789", "665f1c2e9b1d4a001234567g", #"{"$ne": null}"#,
        ] {
            #expect(BSONObjectID(hex: invalid) == nil)
        }
        let first = BSONObjectID.generate()
        let second = BSONObjectID.generate()
        #expect(first != second)
        #expect(first.bytes.count == 12)
    }
}
