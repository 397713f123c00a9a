import BoltClient
import FlowKit
import Foundation
import Hummingbird
import NIOCore

/// The resync endpoints of the sync's HTTP server, behind `Authorization: Bearer <SYNC_ADMIN_TOKEN>`:
///
/// - `POST /sync/users/:id` reads the user from MongoDB, applies it now (as an update) and answers
///   with the outcome and the resulting node: what the API gateway's repair path can call instead of
///   emitting and sleeping 1 s.
/// - `POST /sync/users` syncs every user, or those of `{"ids": [...]}`, and answers with the counts.
/// - `GET /sync/check` answers with the differences of the four compared fields.
///
/// Errors answer `{"statusCode", "message"}` with the same HTTP status.
public struct SyncHTTPRoutes: Sendable {
    let writer: UserGraphWriter
    let source: MongoUserSource
    let adminToken: String

    public init(writer: UserGraphWriter, source: MongoUserSource, adminToken: String) {
        self.writer = writer
        self.source = source
        self.adminToken = adminToken
    }

    public func register<Context: RequestContext>(on router: Router<Context>) {
        let group = router.group("sync").add(middleware: AdminTokenMiddleware<Context>(token: self.adminToken))
        group.post("users/:id") { _, context in
            try await self.syncOne(context.parameters.get("id") ?? "")
        }
        group.post("users") { request, context in
            try await self.syncMany(request, context: context)
        }
        group.get("check") { _, _ in
            try await self.check()
        }
    }

    // MARK: Handlers

    struct SyncOneAnswer: Encodable {
        var outcome: String
        var node: [String: JSONBoltValue]?
    }

    func syncOne(_ id: String) async throws -> Response {
        guard BSONObjectIDText.isValid(id) else {
            return Self.error(.badRequest, "the id is not a 24-character hex ObjectId")
        }
        guard let bson = try await self.source.users(ids: [id]).first else {
            return Self.error(.notFound, "no user \(id) in MongoDB")
        }
        let row: UserSyncRow
        do throws(UserMapping.Invalid) {
            row = try UserMapping.row(from: UserDocument(bson: bson), operation: .update)
        } catch {
            return Self.error(.unprocessableContent, "invalid user document: \(error.reason)")
        }
        let outcome = try await self.writer.apply([row])[0]
        let node = try await self.writer.node(of: row.userID)
        return Self.json(SyncOneAnswer(outcome: outcome.rawValue, node: node?.mapValues(JSONBoltValue.init)), .ok)
    }

    struct SyncManyRequest: Decodable {
        var ids: [String]?
    }

    struct SyncManyAnswer: Encodable {
        var read: Int
        var created: Int
        var updated: Int
        var stale: Int
        var invalid: [[String: String]]
    }

    func syncMany<Context: RequestContext>(_ request: Request, context: Context) async throws -> Response {
        var ids: [String]?
        let body = try await request.body.collect(upTo: 1 << 20)
        if body.readableBytes > 0 {
            guard let decoded = try? JSONDecoder().decode(SyncManyRequest.self, from: Data(body.readableBytesView))
            else { return Self.error(.badRequest, "the body must be {\"ids\": [\"<24 hex>\", ...]} or empty") }
            ids = decoded.ids
        }
        let report = try await BulkSync(source: self.source, writer: self.writer).run(ids: ids)
        let answer = SyncManyAnswer(
            read: report.read, created: report.created, updated: report.updated, stale: report.stale,
            invalid: report.invalid.map { ["user_id": $0.id, "reason": $0.reason] })
        return Self.json(answer, .ok)
    }

    struct CheckAnswer: Encodable {
        struct Field: Encodable {
            var mongo: String?
            var graph: String?
        }

        struct Difference: Encodable {
            var userID: String
            var missingNode: Bool
            var fields: [String: Field]

            enum CodingKeys: String, CodingKey {
                case userID = "user_id"
                case missingNode = "missing_node"
                case fields
            }
        }

        var differences: [Difference]
    }

    func check() async throws -> Response {
        let differences = try await ConsistencyCheck(source: self.source, writer: self.writer).run()
        let answer = CheckAnswer(
            differences: differences.map { difference in
                CheckAnswer.Difference(
                    userID: difference.userID, missingNode: difference.fields == nil,
                    fields: (difference.fields ?? [:]).mapValues { CheckAnswer.Field(mongo: $0.mongo, graph: $0.graph) }
                )
            })
        return Self.json(answer, .ok)
    }

    // MARK: Responses

    /// `body` as JSON; a body that cannot be encoded (a NaN from the graph) is a 500, never `{}`.
    static func json<Body: Encodable>(_ body: Body, _ status: HTTPResponse.Status) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data: Data
        do {
            data = try encoder.encode(body)
        } catch {
            data = Data(#"{"message":"the response could not be encoded as JSON","statusCode":500}"#.utf8)
            return Response(
                status: .internalServerError, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        struct Failure: Encodable {
            var statusCode: Int
            var message: String
        }
        return self.json(Failure(statusCode: status.code, message: message), status)
    }
}

/// Refuses requests without `Authorization: Bearer <token>` (compared in constant time).
struct AdminTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let header = request.headers[.authorization] ?? ""
        let prefix = "Bearer "
        guard header.hasPrefix(prefix), SecretComparison.equals(header.dropFirst(prefix.count).utf8, self.token.utf8)
        else {
            return SyncHTTPRoutes.error(.unauthorized, "an admin token is required")
        }
        return try await next(request, context)
    }
}

/// A Bolt value as JSON (Floats stay numbers with a fraction, so counters read as `0.0`).
struct JSONBoltValue: Encodable {
    let value: BoltValue

    init(_ value: BoltValue) {
        self.value = value
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self.value {
        case .null: try container.encodeNil()
        case .bool(let bool): try container.encode(bool)
        case .int(let int): try container.encode(int)
        case .float(let double): try container.encode(double)
        case .string(let string): try container.encode(string)
        case .list(let list): try container.encode(list.map(JSONBoltValue.init))
        case .map(let map): try container.encode(map.mapValues(JSONBoltValue.init))
        default: try container.encode(String(describing: self.value))
        }
    }
}

/// ObjectId text: exactly 24 hex characters.
enum BSONObjectIDText {
    static func isValid(_ text: String) -> Bool {
        text.utf8.count == 24
            && text.utf8.allSatisfy { byte in
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
            }
    }
}
