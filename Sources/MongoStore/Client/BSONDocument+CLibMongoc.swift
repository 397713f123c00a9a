import CLibMongoc

// libbson's `bson_t` is 128-byte aligned, so Swift sees it as an opaque pointer.

extension BSONDocument {
    /// Runs `body` with a libbson copy of the document (destroyed afterwards).
    func withBSON<Result>(_ body: (OpaquePointer) throws -> Result) throws -> Result {
        let bytes: [UInt8]
        do {
            bytes = try BSONCodec.encode(self)
        } catch {
            throw MongoError(kind: .invalidArgument, message: error.reason, path: error.path)
        }
        guard let bson = bytes.withUnsafeBufferPointer({ bson_new_from_data($0.baseAddress, $0.count) }) else {
            throw MongoError(kind: .invalidArgument, message: "libbson refused the document")
        }
        defer { bson_destroy(bson) }
        return try body(bson)
    }

    /// Copies a libbson document (its length is the document's first four bytes).
    init(copying bson: OpaquePointer) throws {
        guard let data = bson_get_data(bson) else {
            throw MongoError(kind: .bsonDecoding, message: "no data")
        }
        let length = Int(data[0]) | Int(data[1]) << 8 | Int(data[2]) << 16 | Int(data[3]) << 24
        let bytes = Array(UnsafeBufferPointer(start: data, count: length))
        do {
            self = try BSONCodec.decode(bytes)
        } catch {
            throw MongoError(kind: .bsonDecoding, message: error.reason, path: error.path)
        }
    }
}

/// Storage for a `bson_t` that libmongoc initialises as an out parameter (a reply).
struct BSONReply: ~Copyable {
    let pointer: OpaquePointer
    private let raw: UnsafeMutableRawPointer

    init() {
        self.raw = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 128)
        self.raw.initializeMemory(as: UInt8.self, repeating: 0, count: 128)
        self.pointer = OpaquePointer(self.raw)
        bson_init(self.pointer)
    }

    deinit {
        bson_destroy(self.pointer)
        self.raw.deallocate()
    }
}
