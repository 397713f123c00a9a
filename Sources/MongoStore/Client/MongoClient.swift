import CLibMongoc
import NIOPosix
import ServiceLifecycle

/// A MongoDB client over libmongoc's thread-safe `mongoc_client_pool_t`.
///
/// Every libmongoc call blocks, so each runs on this client's `NIOThreadPool`, never on an event
/// loop or Swift's cooperative pool. Create one per process and ``shutdown()`` it at the end.
public final class MongoClient: Service, Sendable {
    private let pool: PoolHandle
    private let threadPool: NIOThreadPool
    /// The database of the URI (or `MONGO_DB_NAME`).
    public let defaultDatabase: String?

    /// Connects lazily to `uri` (`mongodb://` or `mongodb+srv://`, with every option libmongoc reads).
    ///
    /// - Throws: ``MongoError`` `invalidURI` when libmongoc refuses the URI.
    public init(uri: String, database: String? = nil, appName: String = "decode-async", threads: Int = 4) throws {
        MongoDriver.initialize()
        var error = bson_error_t()
        guard let parsed = mongoc_uri_new_with_error(uri, &error) else {
            throw MongoError(kind: .invalidURI, code: error.code, message: "the MongoDB URI is not valid")
        }
        defer { mongoc_uri_destroy(parsed) }
        let uriDatabase = mongoc_uri_get_database(parsed).map { String(cString: $0) }
        self.defaultDatabase = database ?? uriDatabase
        guard let pool = mongoc_client_pool_new(parsed) else {
            throw MongoError(kind: .invalidURI, message: "libmongoc could not create a client pool")
        }
        mongoc_client_pool_set_error_api(pool, 2)
        _ = mongoc_client_pool_set_appname(pool, appName)
        self.pool = PoolHandle(pool)
        self.threadPool = NIOThreadPool(numberOfThreads: max(1, threads))
        self.threadPool.start()
    }

    /// Why libmongoc refuses `uri`, or nil when it accepts it (for start-up configuration checks).
    public static func uriProblem(_ uri: String) -> String? {
        MongoDriver.initialize()
        var error = bson_error_t()
        guard let parsed = mongoc_uri_new_with_error(uri, &error) else {
            // libmongoc's text names the option, never the password.
            return MongoError(error).message
        }
        mongoc_uri_destroy(parsed)
        return nil
    }

    /// Runs as a `Service` of the process: serves until graceful shutdown (or cancellation), then
    /// stops the thread pool. Put the client before the services that use it in the
    /// `ServiceGroup`, so that they stop first. One-shot tools call ``shutdown()`` instead.
    public func run() async throws {
        try? await gracefulShutdown()
        try await self.shutdown()
    }

    /// Stops the thread pool; call once, after the last operation.
    public func shutdown() async throws {
        try await self.threadPool.shutdownGracefully()
    }

    /// Runs `body` with a pooled client on the thread pool.
    func withClient<Result: Sendable>(_ body: @Sendable @escaping (OpaquePointer) throws -> Result) async throws
        -> Result
    {
        let pool = self.pool
        return try await self.threadPool.runIfActive {
            guard let client = mongoc_client_pool_pop(pool.pointer) else {
                throw MongoError(kind: .network, message: "no client from the pool")
            }
            defer { mongoc_client_pool_push(pool.pointer, client) }
            return try body(client)
        }
    }

    /// Runs `{ping: 1}` on `admin`: returns when a server answers.
    public func ping() async throws {
        try await self.withClient { client in
            let command: BSONDocument = ["ping": .int32(1)]
            let reply = BSONReply()
            var error = bson_error_t()
            let succeeded = try command.withBSON { bson in
                mongoc_client_command_simple(client, "admin", bson, nil, reply.pointer, &error)
            }
            guard succeeded else { throw MongoError(error) }
        }
    }

    /// A collection of `database` (default: the URI's database).
    public func collection(_ name: String, database: String? = nil) throws -> MongoCollection {
        guard let database = database ?? self.defaultDatabase else {
            throw MongoError(kind: .invalidArgument, message: "no database: set it in the URI or MONGO_DB_NAME")
        }
        return MongoCollection(client: self, database: database, name: name)
    }
}

/// Owns the libmongoc pool. `@unchecked Sendable`: `mongoc_client_pool_t` is documented thread-safe
/// (pop and push may be called from any thread), and the pointer is never reassigned.
final class PoolHandle: @unchecked Sendable {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        mongoc_client_pool_destroy(self.pointer)
    }
}

/// `mongoc_init` exactly once per process.
enum MongoDriver {
    private static let initialized: Void = mongoc_init()

    static func initialize() {
        _ = self.initialized
    }
}
