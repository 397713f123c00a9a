import CLibMongoc

/// One collection: the typed operations run on the client's thread pool.
public struct MongoCollection: Sendable {
    let client: MongoClient
    /// The database the collection is in.
    public let database: String
    /// The collection's name.
    public let name: String

    func withCollection<Result: Sendable>(
        _ body: @Sendable @escaping (OpaquePointer) throws -> Result
    ) async throws -> Result {
        let database = self.database
        let name = self.name
        return try await self.client.withClient { client in
            guard let collection = mongoc_client_get_collection(client, database, name) else {
                throw MongoError(kind: .invalidArgument, message: "no collection \(name)")
            }
            defer { mongoc_collection_destroy(collection) }
            return try body(collection)
        }
    }

    /// Inserts `document` (an `_id` ObjectId is added first when missing); returns the `_id`.
    ///
    /// - Throws: ``MongoError`` `duplicateKey` when a unique index refuses it.
    @discardableResult
    public func insertOne(_ document: BSONDocument) async throws -> BSON {
        var document = document
        if document["_id"] == nil {
            document = BSONDocument([("_id", .objectID(.generate()))] + document.elements.map { ($0.key, $0.value) })
        }
        let id = document["_id"] ?? .null
        let toInsert = document
        try await self.withCollection { collection in
            var error = bson_error_t()
            let inserted = try toInsert.withBSON { bson in
                mongoc_collection_insert_one(collection, bson, nil, nil, &error)
            }
            guard inserted else { throw MongoError(error) }
        }
        return id
    }

    /// The first document matching `filter` (with `sort` when given), or nil.
    public func findOne(_ filter: BSONDocument, sort: BSONDocument? = nil) async throws -> BSONDocument? {
        var options: BSONDocument = ["limit": .int64(1)]
        if let sort { options["sort"] = .document(sort) }
        return try await self.find(filter, options: options).first
    }

    /// Every document matching `filter`; `options` as libmongoc's find options (sort, skip, limit, projection).
    public func find(_ filter: BSONDocument, options: BSONDocument = [:]) async throws -> [BSONDocument] {
        try await self.withCollection { collection in
            try filter.withBSON { filterBSON in
                try options.withBSON { optionsBSON in
                    guard let cursor = mongoc_collection_find_with_opts(collection, filterBSON, optionsBSON, nil) else {
                        throw MongoError(kind: .server, message: "no cursor")
                    }
                    return try MongoCollection.drain(cursor)
                }
            }
        }
    }

    /// Reads every document of `cursor`, then destroys it.
    static func drain(_ cursor: OpaquePointer) throws -> [BSONDocument] {
        defer { mongoc_cursor_destroy(cursor) }
        var documents: [BSONDocument] = []
        var next: OpaquePointer?
        while mongoc_cursor_next(cursor, &next), let document = next {
            documents.append(try BSONDocument(copying: document))
        }
        var error = bson_error_t()
        if mongoc_cursor_error(cursor, &error) {
            throw MongoError(error)
        }
        return documents
    }

    /// Documents matching `filter` with sort, skip, limit and projection.
    public func find(_ filter: MongoFilter, options: FindOptions = FindOptions()) async throws -> [BSONDocument] {
        try await self.find(filter.document, options: options.document)
    }

    /// How many documents match `filter`.
    public func countDocuments(_ filter: BSONDocument = [:]) async throws -> Int64 {
        try await self.withCollection { collection in
            var error = bson_error_t()
            let count = try filter.withBSON { bson in
                mongoc_collection_count_documents(collection, bson, nil, nil, nil, &error)
            }
            guard count >= 0 else { throw MongoError(error) }
            return count
        }
    }

    /// Deletes the first document matching `filter`; returns whether one was deleted.
    @discardableResult
    public func deleteOne(_ filter: BSONDocument) async throws -> Bool {
        try await self.withCollection { collection in
            var error = bson_error_t()
            let reply = BSONReply()
            let succeeded = try filter.withBSON { bson in
                mongoc_collection_delete_one(collection, bson, nil, reply.pointer, &error)
            }
            guard succeeded else { throw MongoError(error) }
            let document = try BSONDocument(copying: reply.pointer)
            return document["deletedCount"].map { value in
                if case .int32(let count) = value { return count > 0 }
                if case .int64(let count) = value { return count > 0 }
                return false
            } ?? false
        }
    }

    /// Creates `indexes` (existing identical ones are kept).
    public func createIndexes(_ indexes: [IndexModel]) async throws {
        let command: BSONDocument = [
            "createIndexes": .string(self.name),
            "indexes": .array(indexes.map { .document($0.document) }),
        ]
        _ = try await self.runWriteCommand(command)
    }

    /// Creates a unique index on `keys` named `name`.
    public func createUniqueIndex(_ keys: BSONDocument, name: String) async throws {
        try await self.createIndexes([IndexModel(keys: keys, name: name, unique: true)])
    }

    /// Runs a command on this collection's database through the write path; returns the reply.
    public func runWriteCommand(_ command: BSONDocument) async throws -> BSONDocument {
        let database = self.database
        return try await self.client.withClient { client in
            let reply = BSONReply()
            var error = bson_error_t()
            let succeeded = try command.withBSON { bson in
                mongoc_client_write_command_with_opts(client, database, bson, nil, reply.pointer, &error)
            }
            guard succeeded else { throw MongoError(error) }
            return try BSONDocument(copying: reply.pointer)
        }
    }
}
