/// A query filter built from typed values: field names come from code, values are BSON values, so a
/// string from a user is always compared as a string and can never become an operator.
public struct MongoFilter: Sendable, Hashable {
    /// The filter document.
    public var document: BSONDocument

    public init(_ document: BSONDocument = [:]) {
        self.document = document
    }

    /// Matches every document.
    public static let all = MongoFilter()

    public static func eq(_ field: String, _ value: BSON) -> MongoFilter { .field(field, "$eq", value) }
    public static func ne(_ field: String, _ value: BSON) -> MongoFilter { .field(field, "$ne", value) }
    public static func gt(_ field: String, _ value: BSON) -> MongoFilter { .field(field, "$gt", value) }
    public static func gte(_ field: String, _ value: BSON) -> MongoFilter { .field(field, "$gte", value) }
    public static func lt(_ field: String, _ value: BSON) -> MongoFilter { .field(field, "$lt", value) }
    public static func lte(_ field: String, _ value: BSON) -> MongoFilter { .field(field, "$lte", value) }
    public static func `in`(_ field: String, _ values: [BSON]) -> MongoFilter { .field(field, "$in", .array(values)) }
    public static func exists(_ field: String, _ exists: Bool = true) -> MongoFilter {
        .field(field, "$exists", .bool(exists))
    }

    /// All of `filters` hold.
    ///
    /// Rendered as one flat document (`{"a": {"$eq": x}, "b": {"$eq": y}}`) when the filters name
    /// distinct fields, as the shell and mongoose write conjunctions: some planners (the embedded
    /// store's among them) use an index only for that form. `$and` is kept only where it is needed:
    /// a field named twice, or a top-level operator such as `$or` in more than one filter.
    public static func and(_ filters: [MongoFilter]) -> MongoFilter {
        var flat = BSONDocument()
        for filter in filters {
            for (key, value) in filter.document.elements {
                guard flat[key] == nil else {
                    return MongoFilter(["$and": .array(filters.map { .document($0.document) })])
                }
                flat[key] = value
            }
        }
        return MongoFilter(flat)
    }

    /// Any of `filters` holds.
    public static func or(_ filters: [MongoFilter]) -> MongoFilter {
        MongoFilter(["$or": .array(filters.map { .document($0.document) })])
    }

    private static func field(_ field: String, _ operator: String, _ value: BSON) -> MongoFilter {
        MongoFilter(BSONDocument([(field, BSON.document(BSONDocument([(`operator`, value)])))]))
    }
}

/// An update built from typed values (`$set`, `$setOnInsert`, `$inc`, `$unset`, `$currentDate`).
public struct MongoUpdate: Sendable, Hashable {
    public var document: BSONDocument

    public init(_ document: BSONDocument = [:]) {
        self.document = document
    }

    public static func set(_ fields: BSONDocument) -> MongoUpdate { MongoUpdate(["$set": .document(fields)]) }

    /// Adds `$setOnInsert` (fields written only when an upsert inserts).
    public func setOnInsert(_ fields: BSONDocument) -> MongoUpdate { self.adding("$setOnInsert", .document(fields)) }
    public func set(_ fields: BSONDocument) -> MongoUpdate { self.adding("$set", .document(fields)) }
    public func inc(_ fields: BSONDocument) -> MongoUpdate { self.adding("$inc", .document(fields)) }
    public func unset(_ fields: [String]) -> MongoUpdate {
        self.adding("$unset", .document(BSONDocument(fields.map { ($0, .string("")) })))
    }
    /// Sets `fields` to the server's current date.
    public func currentDate(_ fields: [String]) -> MongoUpdate {
        self.adding("$currentDate", .document(BSONDocument(fields.map { ($0, .bool(true)) })))
    }

    private func adding(_ operator: String, _ value: BSON) -> MongoUpdate {
        var copy = self
        copy.document[`operator`] = value
        return copy
    }
}

/// Options of `find`.
public struct FindOptions: Sendable, Hashable {
    public var sort: BSONDocument?
    public var skip: Int64?
    public var limit: Int64?
    public var projection: BSONDocument?

    public init(sort: BSONDocument? = nil, skip: Int64? = nil, limit: Int64? = nil, projection: BSONDocument? = nil) {
        self.sort = sort
        self.skip = skip
        self.limit = limit
        self.projection = projection
    }

    var document: BSONDocument {
        var options = BSONDocument()
        if let sort { options["sort"] = .document(sort) }
        if let skip { options["skip"] = .int64(skip) }
        if let limit { options["limit"] = .int64(limit) }
        if let projection { options["projection"] = .document(projection) }
        return options
    }
}

/// One index of `createIndexes`.
public struct IndexModel: Sendable, Hashable {
    public var keys: BSONDocument
    public var name: String
    public var unique: Bool
    /// Only documents matching this filter are indexed.
    public var partialFilter: MongoFilter?
    /// TTL index: documents expire this many seconds after the date in the (single) key field.
    public var expireAfterSeconds: Int32?

    public init(
        keys: BSONDocument,
        name: String,
        unique: Bool = false,
        partialFilter: MongoFilter? = nil,
        expireAfterSeconds: Int32? = nil
    ) {
        self.keys = keys
        self.name = name
        self.unique = unique
        self.partialFilter = partialFilter
        self.expireAfterSeconds = expireAfterSeconds
    }

    var document: BSONDocument {
        var index: BSONDocument = ["key": .document(self.keys), "name": .string(self.name)]
        if self.unique { index["unique"] = .bool(true) }
        if let partialFilter { index["partialFilterExpression"] = .document(partialFilter.document) }
        if let expireAfterSeconds { index["expireAfterSeconds"] = .int32(expireAfterSeconds) }
        return index
    }
}

/// What an update did.
public struct UpdateResult: Sendable, Equatable {
    public var matchedCount: Int64
    public var modifiedCount: Int64
    /// The `_id` of the document an upsert inserted.
    public var upsertedID: BSON?
}
