import CLibMongoc

extension MongoCollection {
    /// Inserts `documents` unordered (one failure does not stop the others); returns their `_id`s.
    ///
    /// - Throws: the first ``MongoError`` (e.g. `duplicateKey`) after the server tried all of them.
    @discardableResult
    public func insertMany(_ documents: [BSONDocument]) async throws -> [BSON] {
        let outcome = try await self.insertManyReportingErrors(documents)
        if let first = outcome.writeErrors.min(by: { $0.key < $1.key }) {
            throw first.value
        }
        return outcome.ids
    }

    /// What an unordered `insertMany` did to each document.
    public struct InsertManyOutcome: Sendable {
        /// The `_id` of every document, in the order given (also of those that failed).
        public var ids: [BSON]
        /// The write error of each document the server refused, by its index in the batch; the
        /// others are stored.
        public var writeErrors: [Int: MongoError]
    }

    /// Inserts `documents` in one unordered `insertMany` and reports each document's fate: a
    /// refused document (a duplicate key, say) fails alone and the others stand.
    ///
    /// - Throws: ``MongoError`` when the command as a whole failed (network, server selection, write
    ///   concern): then any of the documents may or may not be stored.
    public func insertManyReportingErrors(_ documents: [BSONDocument]) async throws -> InsertManyOutcome {
        guard !documents.isEmpty else { return InsertManyOutcome(ids: [], writeErrors: [:]) }
        let withIDs = documents.map { document -> BSONDocument in
            document["_id"] == nil
                ? BSONDocument([("_id", .objectID(.generate()))] + document.elements.map { ($0.key, $0.value) })
                : document
        }
        let encoded = try withIDs.map { try BSONCodec.encode($0) }
        let writeErrors = try await self.withCollection { collection -> [Int: MongoError] in
            var pointers: [OpaquePointer?] = encoded.map { bytes in
                bytes.withUnsafeBufferPointer { bson_new_from_data($0.baseAddress, $0.count) }
            }
            defer {
                for pointer in pointers {
                    bson_destroy(pointer)
                }
            }
            guard !pointers.contains(where: { $0 == nil }) else {
                throw MongoError(kind: .invalidArgument, message: "libbson refused a document")
            }
            var error = bson_error_t()
            let reply = BSONReply()
            let options: BSONDocument = ["ordered": .bool(false)]
            let succeeded = try options.withBSON { optionsBSON in
                pointers.withUnsafeMutableBufferPointer { buffer in
                    buffer.baseAddress.map { base in
                        mongoc_collection_insert_many(
                            collection, base, buffer.count, optionsBSON, reply.pointer, &error)
                    } ?? false
                }
            }
            if succeeded { return [:] }
            let replyDocument = try BSONDocument(copying: reply.pointer)
            guard case .array(let errors) = replyDocument["writeErrors"], !errors.isEmpty,
                replyDocument["writeConcernErrors"].map({ $0 == .array([]) }) ?? true
            else { throw MongoError(error) }
            return try Self.writeErrors(errors, count: withIDs.count)
        }
        return InsertManyOutcome(ids: withIDs.map { $0["_id"] ?? .null }, writeErrors: writeErrors)
    }

    /// The reply's `writeErrors` (`{index, code, errmsg}`) by document index.
    static func writeErrors(_ errors: [BSON], count: Int) throws -> [Int: MongoError] {
        var byIndex: [Int: MongoError] = [:]
        for case .document(let entry) in errors {
            guard let index = entry["index"]?.int64Value.map(Int.init), (0..<count).contains(index),
                let code = entry["code"]?.int64Value
            else {
                throw MongoError(kind: .server, message: "insertMany reply with an unreadable write error")
            }
            var message = ""
            if case .string(let text) = entry["errmsg"] { message = text }
            byIndex[index] = MongoError(serverCode: UInt32(truncatingIfNeeded: code), message: message)
        }
        return byIndex
    }

    /// Updates the first document matching `filter`.
    @discardableResult
    public func updateOne(_ filter: MongoFilter, _ update: MongoUpdate, upsert: Bool = false) async throws
        -> UpdateResult
    {
        try await self.update(filter, update, upsert: upsert, many: false)
    }

    /// Updates every document matching `filter`.
    @discardableResult
    public func updateMany(_ filter: MongoFilter, _ update: MongoUpdate, upsert: Bool = false) async throws
        -> UpdateResult
    {
        try await self.update(filter, update, upsert: upsert, many: true)
    }

    private func update(_ filter: MongoFilter, _ update: MongoUpdate, upsert: Bool, many: Bool) async throws
        -> UpdateResult
    {
        try await self.withCollection { collection in
            let reply = BSONReply()
            var error = bson_error_t()
            let options: BSONDocument = ["upsert": .bool(upsert)]
            let succeeded = try filter.document.withBSON { filterBSON in
                try update.document.withBSON { updateBSON in
                    try options.withBSON { optionsBSON in
                        many
                            ? mongoc_collection_update_many(
                                collection, filterBSON, updateBSON, optionsBSON, reply.pointer, &error)
                            : mongoc_collection_update_one(
                                collection, filterBSON, updateBSON, optionsBSON, reply.pointer, &error)
                    }
                }
            }
            guard succeeded else { throw MongoError(error) }
            let document = try BSONDocument(copying: reply.pointer)
            return UpdateResult(
                matchedCount: document["matchedCount"]?.int64Value ?? 0,
                modifiedCount: document["modifiedCount"]?.int64Value ?? 0,
                upsertedID: document["upsertedId"]
            )
        }
    }

    /// Which version of the document `findOneAndUpdate` returns.
    public enum ReturnDocument: Sendable {
        /// The document as it was before the update (`nil` for an upsert that inserted).
        case before
        /// The document as the update left it.
        case after
    }

    /// Atomically updates the first document matching `filter` (in `sort` order) and returns it as it
    /// was `before` or is `after` the update; nil when none matched (and no upsert).
    public func findOneAndUpdate(
        _ filter: MongoFilter,
        _ update: MongoUpdate,
        returning: ReturnDocument = .after,
        upsert: Bool = false,
        sort: BSONDocument? = nil
    ) async throws -> BSONDocument? {
        try await self.withCollection { collection in
            let reply = BSONReply()
            var error = bson_error_t()
            let sortDocument = sort ?? [:]
            let succeeded = try filter.document.withBSON { filterBSON in
                try update.document.withBSON { updateBSON in
                    try sortDocument.withBSON { sortBSON in
                        mongoc_collection_find_and_modify(
                            collection,
                            filterBSON,
                            sort == nil ? nil : sortBSON,
                            updateBSON,
                            nil,
                            false,
                            upsert,
                            returning == .after,
                            reply.pointer,
                            &error
                        )
                    }
                }
            }
            guard succeeded else { throw MongoError(error) }
            guard case .document(let value) = try BSONDocument(copying: reply.pointer)["value"] else { return nil }
            return value
        }
    }

    /// Deletes every document matching `filter`; returns how many.
    @discardableResult
    public func deleteMany(_ filter: MongoFilter) async throws -> Int64 {
        try await self.withCollection { collection in
            let reply = BSONReply()
            var error = bson_error_t()
            let succeeded = try filter.document.withBSON { bson in
                mongoc_collection_delete_many(collection, bson, nil, reply.pointer, &error)
            }
            guard succeeded else { throw MongoError(error) }
            return try BSONDocument(copying: reply.pointer)["deletedCount"]?.int64Value ?? 0
        }
    }

    /// Runs an aggregation pipeline and returns every result document.
    public func aggregate(_ pipeline: [BSONDocument]) async throws -> [BSONDocument] {
        try await self.withCollection { collection in
            let pipelineDocument: BSONDocument = ["pipeline": .array(pipeline.map { .document($0) })]
            return try pipelineDocument.withBSON { bson in
                guard let cursor = mongoc_collection_aggregate(collection, MONGOC_QUERY_NONE, bson, nil, nil) else {
                    throw MongoError(kind: .server, message: "no cursor")
                }
                return try MongoCollection.drain(cursor)
            }
        }
    }
}

extension BSON {
    /// The value as Int64 when it is any integer (or an integral double).
    public var int64Value: Int64? {
        switch self {
        case .int32(let value): Int64(value)
        case .int64(let value): value
        case .double(let value): Int64(exactly: value)
        default: nil
        }
    }
}
