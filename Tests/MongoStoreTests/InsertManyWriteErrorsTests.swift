import Testing

@testable import MongoStore

@Suite struct InsertManyWriteErrorsTests {
    @Test func eachWriteErrorBelongsToItsDocumentAndDuplicatesKeepOnlyTheIndexName() throws {
        let errors: [BSON] = [
            .document([
                "index": .int32(2), "code": .int32(11000),
                "errmsg": .string("E11000 duplicate key error collection: d.n index: message_id_unique dup key: { x }"),
            ]),
            .document(["index": .int32(4), "code": .int32(121), "errmsg": .string("Document failed validation")]),
        ]
        let byIndex = try MongoCollection.writeErrors(errors, count: 5)
        #expect(byIndex.keys.sorted() == [2, 4])
        #expect(byIndex[2]?.kind == .duplicateKey)
        #expect(byIndex[2]?.index == "message_id_unique")
        #expect(byIndex[2]?.description.contains("dup key") == false)
        #expect(byIndex[4]?.kind == .server)
        #expect(byIndex[4]?.code == 121)
    }

    @Test func aWriteErrorOutsideTheBatchIsRefused() {
        #expect(throws: MongoError.self) {
            try MongoCollection.writeErrors([.document(["index": .int32(9), "code": .int32(11000)])], count: 3)
        }
    }
}
