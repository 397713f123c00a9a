import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import MongoStore
import NIOCore
import SocketIO

/// The REST inbox on the notification port (COMPAT.md 3.3): the original's routes, envelope and
/// messages, with its defects fixed (HTTP status equals the body's `statusCode`, a real `total`, 400
/// for bad input, 404 for a missing or foreign notification).
public struct NotificationRoutes: Sendable {
    /// Every route this registers, for the OpenAPI document's test.
    public static let routes: [(method: String, path: String)] = [
        ("GET", "/notifications"),
        ("GET", "/notifications/unread/count"),
        ("PATCH", "/notifications/{id}/read"),
        ("POST", "/notifications/{id}/read"),
        ("PATCH", "/notifications/read-all"),
        ("GET", "/notifications/health"),
        ("GET", "/api/docs/openapi.json"),
    ]
    static let maxLimit = 100

    let store: NotificationStore
    let delivery: NotificationDelivery?
    let verifier: AccessTokenVerifier
    let sessions: AuthServiceSessions?
    let corsOrigin: String
    let logger: Logger

    /// With `sessions`, a token that verifies locally must also be confirmed by the auth service.
    public init(
        store: NotificationStore, delivery: NotificationDelivery?, verifier: AccessTokenVerifier,
        sessions: AuthServiceSessions? = nil, corsOrigin: String, logger: Logger
    ) {
        self.store = store
        self.delivery = delivery
        self.verifier = verifier
        self.sessions = sessions
        self.corsOrigin = corsOrigin
        self.logger = logger
    }

    public func register<Context: RequestContext>(on router: Router<Context>) {
        router.add(middleware: NestNotFoundMiddleware())
        let group = router.group("notifications")
            .add(
                middleware: CORSMiddleware(
                    allowOrigin: self.corsOrigin == "*" ? .originBased : .custom(self.corsOrigin),
                    allowHeaders: [.authorization, .contentType, .accept],
                    allowMethods: [.get, .post, .put, .delete, .patch, .options],
                    allowCredentials: true
                )
            )
        group.get("health") { _, _ in
            Self.envelope(
                .ok, "Notification service is healthy",
                data: .object([
                    "timestamp": .string(Notification.timestamp(Date())),
                    "service": .string("notification"),
                    "version": .string("1.0.0"),
                ])
            )
        }
        group.get { request, _ in
            try await self.authenticated(request) { user in try await self.list(request, user: user) }
        }
        group.get("unread/count") { request, _ in
            try await self.authenticated(request) { user in
                let count = try await self.store.unreadCount(userID: user)
                return Self.envelope(
                    .ok, "Unread count retrieved successfully", data: .object(["count": .number(Double(count))]))
            }
        }
        group.patch("read-all") { request, _ in
            try await self.authenticated(request) { user in
                try await self.store.markAllRead(userID: user)
                await self.delivery?.unreadCountChanged(userID: user)
                return Self.envelope(.ok, "All notifications marked as read")
            }
        }
        group.patch(":id/read") { request, context in
            try await self.markRead(request, id: context.parameters.get("id"))
        }
        group.post(":id/read") { request, context in
            try await self.markRead(request, id: context.parameters.get("id"))
        }
        router.get("api/docs/openapi.json") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(
                status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: Self.openAPIDocument)))
        }
    }

    // MARK: Handlers

    private func list(_ request: Request, user: BSONObjectID) async throws -> Response {
        let query = request.uri.queryParameters
        guard let page = Self.integer(query["page"], default: 0), let limit = Self.integer(query["limit"], default: 10)
        else {
            return Self.failure(.badRequest, "Validation failed (numeric string is expected)", error: "Bad Request")
        }
        guard page >= 0 else {
            return Self.failure(.badRequest, "Failed to retrieve notifications", error: "page must be 0 or more")
        }
        guard limit >= 1 else {
            return Self.failure(.badRequest, "Failed to retrieve notifications", error: "limit must be 1 or more")
        }
        let capped = min(limit, Self.maxLimit)
        let (notifications, total) = try await self.store.page(userID: user, page: page, limit: capped)
        return Self.envelope(
            .ok, "Notifications retrieved successfully",
            data: .object([
                "notifications": .array(notifications.map(\.restJSON)),
                "meta": .object([
                    "total": .number(Double(total)),
                    "page": .number(Double(page)),
                    "limit": .number(Double(capped)),
                    "is_last_page": .bool(Int64(page + 1) * Int64(capped) >= total),
                ]),
            ])
        )
    }

    private func markRead(_ request: Request, id rawID: String?) async throws -> Response {
        try await self.authenticated(request) { user in
            guard let rawID, let id = BSONObjectID(hex: rawID) else {
                Counter(label: "notification.read", dimensions: [("status", "failed")]).increment()
                return Self.failure(.badRequest, "Notification not found", error: "Invalid notification id")
            }
            guard let notification = try await self.store.markRead(id: id, userID: user) else {
                Counter(label: "notification.read", dimensions: [("status", "failed")]).increment()
                return Self.failure(.notFound, "Notification not found", error: "Not Found")
            }
            Counter(
                label: "notification.read",
                dimensions: [("notification_type", notification.type), ("status", "success")]
            ).increment()
            await self.delivery?.unreadCountChanged(userID: user)
            return Self.envelope(.ok, "Notification marked as read successfully", data: notification.restJSON)
        }
    }

    /// Runs `body` for the token's user; refusals and failures answer with the envelope.
    private func authenticated(_ request: Request, _ body: (BSONObjectID) async throws -> Response) async throws
        -> Response
    {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            !header.dropFirst("Bearer ".count).trimmingCharacters(in: .whitespaces).isEmpty
        else {
            return Self.failure(.unauthorized, "Access token is required", error: "MISSING_TOKEN")
        }
        let token = AccessTokenVerifier.token(authorizationHeader: header, auth: nil)
        guard let token, var userID = try? self.verifier.userID(from: token) else {
            return Self.failure(.unauthorized, "Invalid or expired access token", error: "TOKEN_EXPIRED")
        }
        if let sessions {
            switch await sessions.confirm(token: token) {
            case .success(let confirmed):
                userID = confirmed
            case .failure(let refusal):
                return Self.failure(.unauthorized, refusal.message, error: refusal.error)
            }
        }
        guard let user = BSONObjectID(hex: userID) else {
            return Self.failure(.unauthorized, "Invalid or expired access token", error: "TOKEN_EXPIRED")
        }
        do {
            return try await body(user)
        } catch {
            self.logger.error(
                "notifications: request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return Self.failure(.internalServerError, "Internal server error", error: "INTERNAL_ERROR")
        }
    }

    // MARK: Envelope

    static func integer(_ value: Substring?, default fallback: Int) -> Int? {
        guard let value else { return fallback }
        return Int(value)
    }

    static func envelope(_ status: HTTPResponse.Status, _ message: String, data: JSONValue? = nil) -> Response {
        var body: [JSONValue.JSONMember] = [
            .init("success", .bool(true)), .init("statusCode", .number(Double(status.code))),
            .init("message", .string(message)),
        ]
        if let data { body.append(.init("data", data)) }
        return self.json(status, .object(body))
    }

    static func failure(_ status: HTTPResponse.Status, _ message: String, error: String) -> Response {
        self.json(
            status,
            .object([
                "success": .bool(false), "statusCode": .number(Double(status.code)), "message": .string(message),
                "error": .string(error),
            ])
        )
    }

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: value.text)))
    }

    /// The OpenAPI document kept beside the code (`Resources/openapi.json`).
    public static let openAPIDocument: Data = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"),
            let data = try? Data(contentsOf: url)
        else { return Data("{}".utf8) }
        return data
    }()
}

/// Unknown paths answer as NestJS does: `{"message": "Cannot GET /x", "error": "Not Found", "statusCode": 404}`.
struct NestNotFoundMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && error.body == nil {
            return NotificationRoutes.json(
                .notFound,
                .object([
                    "message": .string("Cannot \(request.method.rawValue) \(request.uri.path)"),
                    "error": .string("Not Found"),
                    "statusCode": .number(404),
                ])
            )
        }
    }
}
