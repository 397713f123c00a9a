import Foundation
import Testing

@testable import MongoStore

@Suite("BSON Codable")
struct BSONCodableTests {
    struct Notification: Codable, Equatable {
        var id: BSONObjectID
        var userID: BSONObjectID
        var type: String
        var delivered: Bool
        var deliveredAt: Date?
        var createdAt: Date
        var attempts: Int
        var version: Int32
        var score: Double
        var tags: [String]
        var meta: Meta
        var blob: Data

        struct Meta: Codable, Equatable {
            var source: String
        }

        enum CodingKeys: String, CodingKey {
            case id = "_id"
            case userID = "user_id"
            case type, delivered, attempts, score, tags, meta, blob
            case deliveredAt = "delivered_at"
            case createdAt
            case version = "__v"
        }
    }

    static let sample = Notification(
        id: BSONObjectID.generate(),
        userID: BSONObjectID(hex: "665f1c2e9b1d4a0012345678") ?? .generate(),
        type: "new_follow",
        delivered: false,
        deliveredAt: nil,
        createdAt: Date(timeIntervalSince1970: -1.5),
        attempts: Int(Int64.max),
        version: 0,
        score: 0.25,
        tags: ["a", "b"],
        meta: .init(source: "relationship"),
        blob: Data([0, 255])
    )

    @Test func encodesToNativeBSONTypesInKeyOrder() throws {
        let document = try BSONEncoder().encode(Self.sample)
        // The order of CodingKeys; a nil optional is left out, as synthesized Codable does.
        #expect(
            document.keys == [
                "_id", "user_id", "type", "delivered", "attempts", "score", "tags", "meta", "blob", "createdAt", "__v",
            ])
        #expect(document["_id"] == .objectID(Self.sample.id))
        #expect(document["user_id"] == .objectID(Self.sample.userID))
        #expect(document["createdAt"] == .datetime(-1500))
        #expect(document["attempts"] == .int64(Int64.max))
        #expect(document["__v"] == .int32(0))
        #expect(document["blob"] == .binary(subtype: 0, bytes: [0, 255]))
        #expect(document["meta"] == .document(["source": .string("relationship")]))
        #expect(document["tags"] == .array([.string("a"), .string("b")]))
        #expect(document["delivered_at"] == nil)
    }

    @Test func roundTripsThroughBytes() throws {
        let bytes = try BSONCodec.encode(try BSONEncoder().encode(Self.sample))
        let decoded = try BSONDecoder().decode(Notification.self, from: try BSONCodec.decode(bytes))
        #expect(decoded == Self.sample)
    }

    @Test func unknownFieldsAreIgnoredAndNullIsNil() throws {
        var document = try BSONEncoder().encode(Self.sample)
        document["extra"] = .string("ignored")
        document["delivered_at"] = .null
        #expect(try BSONDecoder().decode(Notification.self, from: document) == Self.sample)
    }

    @Test func wrongTypesNameTheFieldPath() throws {
        var document = try BSONEncoder().encode(Self.sample)
        document["meta"] = .document(["source": .int32(5)])
        let wrongType = try #require(throws: DecodingError.self) {
            try BSONDecoder().decode(Notification.self, from: document)
        }
        let mongoError = MongoError(decoding: wrongType)
        #expect(mongoError.kind == .bsonDecoding)
        #expect(mongoError.path == "meta.source")
        document = try BSONEncoder().encode(Self.sample)
        document["__v"] = .int64(Int64(Int32.max) + 1)
        let overflow = try #require(throws: DecodingError.self) {
            try BSONDecoder().decode(Notification.self, from: document)
        }
        #expect(MongoError(decoding: overflow).path == "__v")
        document["__v"] = nil
        let missing = try #require(throws: DecodingError.self) {
            try BSONDecoder().decode(Notification.self, from: document)
        }
        #expect(MongoError(decoding: missing).path == "__v")
    }

    @Test func integersAcceptEveryIntegralBSONNumber() throws {
        struct Counts: Codable {
            var a: Int
            var b: Int32
            var c: Double
        }
        let counts = try BSONDecoder().decode(Counts.self, from: ["a": .int32(3), "b": .double(4), "c": .int64(5)])
        #expect(counts.a == 3 && counts.b == 4 && counts.c == 5)
    }
}
