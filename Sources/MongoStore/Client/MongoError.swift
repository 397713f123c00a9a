import CLibMongoc
import Foundation

/// Every MongoStore failure: what kind, the server's or driver's code, and a message without values.
public struct MongoError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is. New kinds may come in later versions: compare with `==`, or
    /// `switch` with a `default`.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        enum Base: String, Hashable, Sendable {
            case network
            case duplicateKey
            case writeConcern
            case server
            case bsonDecoding
            case invalidURI
            case invalidArgument
        }

        let base: Base

        /// Network or server selection failure, or a timeout: retrying later may succeed.
        public static let network = Kind(base: .network)
        /// A unique index refused the write (server code 11000).
        public static let duplicateKey = Kind(base: .duplicateKey)
        /// The write was applied but its write concern (e.g. `majority`) could not be confirmed.
        public static let writeConcern = Kind(base: .writeConcern)
        /// The server answered with an error code.
        public static let server = Kind(base: .server)
        /// A document did not decode (see ``MongoError/path``).
        public static let bsonDecoding = Kind(base: .bsonDecoding)
        /// The `mongodb://` URI could not be parsed, or the driver could not start with it.
        public static let invalidURI = Kind(base: .invalidURI)
        /// A request could not be built: no database named, an unknown collection, or a document BSON refuses.
        public static let invalidArgument = Kind(base: .invalidArgument)

        /// The kind's name, e.g. `duplicateKey`, for logs.
        public var description: String { self.base.rawValue }
    }

    /// What kind of failure this is.
    public var kind: Kind
    /// The server or driver error code.
    public var code: UInt32
    /// The server's or driver's text; for duplicate keys only the index name, never the duplicated value.
    public var message: String
    /// The field path of a decoding failure.
    public var path: String?
    /// The index a duplicate key violated (`duplicateKey` only).
    public var index: String?

    /// Whether a retry may succeed.
    public var isRetryable: Bool { self.kind == .network }

    /// The kind, code, message and field path in one line, for logs.
    public var description: String {
        var text = "MongoDB \(self.kind) (\(self.code)): \(self.message)"
        if let path { text += " at \(path)" }
        return text
    }

    init(kind: Kind, code: UInt32 = 0, message: String, path: String? = nil) {
        self.kind = kind
        self.code = code
        self.message = message
        self.path = path
    }

    /// `index: <name>` in an E11000 message.
    static func indexName(in message: String) -> String? {
        guard let range = message.range(of: "index: ") else { return nil }
        let name = message[range.upperBound...].prefix { !$0.isWhitespace }
        return name.isEmpty ? nil : String(name)
    }

    /// A server's write error (a `writeErrors` entry): duplicate keys keep only the index name.
    init(serverCode code: UInt32, message: String) {
        if code == 11000 || code == 11001 {
            let index = Self.indexName(in: message)
            self.init(kind: .duplicateKey, code: code, message: "duplicate key in index \(index ?? "?")")
            self.index = index
        } else {
            self.init(kind: .server, code: code, message: message)
        }
    }

    /// Classifies a libmongoc error (error API version 2).
    init(_ error: bson_error_t) {
        var error = error
        let message = withUnsafeBytes(of: &error.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        let domain = error.domain
        let code = error.code
        let kind: Kind
        if code == 11000 || code == 11001 {
            // The server's text repeats the duplicate value, which may be personal data: keep only the index.
            let index = Self.indexName(in: message)
            self.init(kind: .duplicateKey, code: code, message: "duplicate key in index \(index ?? "?")")
            self.index = index
            return
        } else if domain == UInt32(MONGOC_ERROR_STREAM.rawValue)
            || domain == UInt32(MONGOC_ERROR_SERVER_SELECTION.rawValue)
            || [6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436].contains(code)
        {
            kind = .network
        } else if domain == UInt32(MONGOC_ERROR_WRITE_CONCERN.rawValue) {
            kind = .writeConcern
        } else {
            kind = .server
        }
        self.init(kind: kind, code: code, message: message)
    }
}
