import CLibMongoc

extension MongoCollection {
    /// Encodes `value` with ``BSONEncoder`` and inserts it; returns the `_id`.
    @discardableResult
    public func insertOne<Value: Encodable>(_ value: Value, encoder: BSONEncoder = BSONEncoder()) async throws -> BSON {
        try await self.insertOne(try encoder.encode(value))
    }

    /// Documents matching `filter`, decoded as `Value` (unknown fields ignored).
    ///
    /// - Throws: ``MongoError`` `bsonDecoding` with the field path when a document does not decode.
    public func find<Value: Decodable>(
        _ filter: MongoFilter,
        as type: Value.Type,
        options: FindOptions = FindOptions(),
        decoder: BSONDecoder = BSONDecoder()
    ) async throws -> [Value] {
        try await self.find(filter, options: options).map { try Self.decode(type, from: $0, decoder: decoder) }
    }

    /// The first document matching `filter`, decoded as `Value`.
    public func findOne<Value: Decodable>(
        _ filter: MongoFilter,
        as type: Value.Type,
        sort: BSONDocument? = nil,
        decoder: BSONDecoder = BSONDecoder()
    ) async throws -> Value? {
        try await self.find(filter, options: FindOptions(sort: sort, limit: 1)).first
            .map { try Self.decode(type, from: $0, decoder: decoder) }
    }

    static func decode<Value: Decodable>(_ type: Value.Type, from document: BSONDocument, decoder: BSONDecoder) throws
        -> Value
    {
        do {
            return try decoder.decode(type, from: document)
        } catch let error as DecodingError {
            throw MongoError(decoding: error)
        }
    }

    /// The collection's indexes as the server describes them.
    public func listIndexes() async throws -> [BSONDocument] {
        try await self.withCollection { collection in
            guard let cursor = mongoc_collection_find_indexes_with_opts(collection, nil) else {
                throw MongoError(kind: .server, message: "no cursor")
            }
            return try MongoCollection.drain(cursor)
        }
    }
}

extension MongoError {
    /// A decoding failure with its field path (never the value).
    init(decoding error: DecodingError) {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            self.init(kind: .bsonDecoding, message: "missing field", path: path(context.codingPath + [key]))
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            self.init(kind: .bsonDecoding, message: context.debugDescription, path: path(context.codingPath))
        @unknown default:
            self.init(kind: .bsonDecoding, message: "does not decode")
        }
    }
}
