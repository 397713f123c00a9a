/// A query filter built from typed values: field names come from code, values are BSON values, so a
/// string from a user is always compared as a string and can never become an operator.
public struct MongoFilter: Sendable, Hashable {
    /// The filter document.
    public var document: BSONDocument

    /// A filter from a document written in code; never build it from user-supplied keys.
    public init(_ document: BSONDocument = [:]) {
        self.document = document
    }

    /// Matches every document.
    public static let all = MongoFilter()

    /// `field` equals `value` (`$eq`); on an array field, some element equals it.
    public static func eq(_ field: String, _ value: BSON) -> MongoFilter { .field(field, "$eq", value) }
    /// `field` does not equal `value` (`$ne`); documents without the field match too.
    public static func ne(_ field: String, _ value: BSON) -> MongoFilter { .field(field, "$ne", value) }
    /// `field` is greater than `value` (`$gt`), compared within the same BSON type.
    public static func gt(_ field: String, _ value: BSON) -> MongoFilter { .field(field, "$gt", value) }
    /// `field` is greater than or equal to `value` (`$gte`).
    public static func gte(_ field: String, _ value: BSON) -> MongoFilter { .field(field, "$gte", value) }
    /// `field` is less than `value` (`$lt`), compared within the same BSON type.
    public static func lt(_ field: String, _ value: BSON) -> MongoFilter { .field(field, "$lt", value) }
    /// `field` is less than or equal to `value` (`$lte`).
    public static func lte(_ field: String, _ value: BSON) -> MongoFilter { .field(field, "$lte", value) }
    /// `field` equals one of `values` (`$in`); an empty list matches nothing.
    public static func `in`(_ field: String, _ values: [BSON]) -> MongoFilter { .field(field, "$in", .array(values)) }
    /// `field` is present (or, with `false`, absent) in the document (`$exists`); a `null` value counts as present.
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
    /// The update document, one entry per operator.
    public var document: BSONDocument

    /// An update from a document written in code; never build it from user-supplied keys.
    public init(_ document: BSONDocument = [:]) {
        self.document = document
    }

    /// An update that sets `fields` to the given values (`$set`), creating missing ones.
    public static func set(_ fields: BSONDocument) -> MongoUpdate { MongoUpdate(["$set": .document(fields)]) }

    /// Adds `$setOnInsert` (fields written only when an upsert inserts).
    public func setOnInsert(_ fields: BSONDocument) -> MongoUpdate { self.adding("$setOnInsert", .document(fields)) }
    /// Adds `$set`: sets `fields` to the given values; replaces an earlier `$set` of this update.
    public func set(_ fields: BSONDocument) -> MongoUpdate { self.adding("$set", .document(fields)) }
    /// Adds `$inc`: adds each given amount to its field (a missing field starts at 0).
    public func inc(_ fields: BSONDocument) -> MongoUpdate { self.adding("$inc", .document(fields)) }
    /// Adds `$unset`: removes `fields` from the document.
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
    /// The sort order, e.g. `["createdAt": -1]` for newest first; `nil` for the server's order.
    public var sort: BSONDocument?
    /// How many matching documents to skip first; `nil` for none.
    public var skip: Int64?
    /// The most documents to return; `nil` for all.
    public var limit: Int64?
    /// The fields to return (`1`) or leave out (`0`); `nil` for whole documents.
    public var projection: BSONDocument?

    /// Creates options; every option is unset by default.
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
    /// The indexed fields and their order, e.g. `["userId": 1, "createdAt": -1]`.
    public var keys: BSONDocument
    /// The index's name, unique within the collection.
    public var name: String
    /// Whether two documents may not share the same key values.
    public var unique: Bool
    /// Only documents matching this filter are indexed.
    public var partialFilter: MongoFilter?
    /// TTL index: documents expire this many seconds after the date in the (single) key field.
    public var expireAfterSeconds: Int32?

    /// Creates an index model; not unique, not partial and without TTL by default.
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
    /// How many documents matched the filter.
    public var matchedCount: Int64
    /// How many of them were changed (a document already holding the new values is not counted).
    public var modifiedCount: Int64
    /// The `_id` of the document an upsert inserted.
    public var upsertedID: BSON?
}
