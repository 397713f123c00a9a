import Testing

@testable import MongoStore

@Suite struct MongoFilterTests {
    @Test func conjunctionOfDistinctFieldsIsOneFlatDocument() {
        let filter = MongoFilter.and([.eq("user_id", .string("u")), .eq("read", .bool(false))])
        #expect(
            filter.document
                == [
                    "user_id": .document(["$eq": .string("u")]),
                    "read": .document(["$eq": .bool(false)]),
                ])
        #expect(filter.document["$and"] == nil)
    }

    @Test func flatConjunctionKeepsTheFiltersOrder() {
        let filter = MongoFilter.and([.eq("_id", .int32(1)), .eq("delivered", .bool(false)), .exists("x")])
        #expect(filter.document.keys == ["_id", "delivered", "x"])
    }

    @Test func repeatedFieldKeepsAnd() {
        let filter = MongoFilter.and([.gte("createdAt", .int64(1)), .lt("createdAt", .int64(9))])
        #expect(
            filter.document
                == [
                    "$and": .array([
                        .document(["createdAt": .document(["$gte": .int64(1)])]),
                        .document(["createdAt": .document(["$lt": .int64(9)])]),
                    ])
                ])
    }

    @Test func twoTopLevelOperatorsKeepAnd() {
        let either = MongoFilter.or([.eq("a", .int32(1)), .eq("b", .int32(2))])
        let other = MongoFilter.or([.eq("c", .int32(3)), .eq("d", .int32(4))])
        let filter = MongoFilter.and([either, other])
        #expect(filter.document.keys == ["$and"])
        #expect(filter.document["$and"] == .array([.document(either.document), .document(other.document)]))
    }

    @Test func oneOperatorBesideFieldsStaysFlat() {
        let either = MongoFilter.or([.eq("a", .int32(1)), .eq("b", .int32(2))])
        let filter = MongoFilter.and([.eq("user_id", .string("u")), either])
        #expect(filter.document.keys == ["user_id", "$or"])
        #expect(filter.document["$or"] == either.document["$or"])
    }

    @Test func operatorsOfOneFieldStayInItsDocument() {
        let filter = MongoFilter.and([.in("_id", [.int32(1), .int32(2)]), .eq("delivered", .bool(false))])
        #expect(filter.document["_id"] == .document(["$in": .array([.int32(1), .int32(2)])]))
    }

    @Test func emptyConjunctionMatchesEverything() {
        #expect(MongoFilter.and([]).document == [:])
    }
}
