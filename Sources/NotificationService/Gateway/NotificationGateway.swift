import Foundation
import Logging
import RedisClient
import SocketIO

/// The notification gateway as the original serves it (COMPAT.md 3.4, 3.5), on the `SocketIO`
/// library: the `/notifications` namespace, access tokens checked at CONNECT (then, optionally, the
/// session with the auth service), every socket in its user's room `user_<id>`, presence in
/// `user_sockets:<id>`, `user_connected` once connected, and the original's `error` event.
public enum NotificationGateway {
    /// The namespace clients connect to.
    public static let namespace = "/notifications"
    /// The Redis channel the instances exchange room emits on.
    public static let busChannel = "decode-async:socket.io:/notifications"
    /// The event a socket gets once connected.
    public static let connectedEvent = "user_connected"
    /// Presence keys: `user_sockets:<user_id>` (the API gateway asks `EXISTS` for "is online"), and
    /// `presence_instance:<instance>` for each live instance.
    public static let presenceKeys = PresenceKeys(userPrefix: "user_sockets:", instancePrefix: "presence_instance:")

    /// The room of a user's sockets (internal; clients never name it).
    public static func room(ofUser userID: String) -> String { "user_\(userID)" }

    /// Checks a connected socket's session (e.g. with the auth service); a refusal ends it.
    public typealias SessionCheck = @Sendable (_ token: String, _ userID: String) async -> SocketIOClientError?

    /// The gateway's Socket.IO server on ``namespace`` (whatever `configuration.namespace` says) and,
    /// unless `configuration.busChannel` names another, ``busChannel``: `verifier` checks tokens at
    /// CONNECT, `sessionCheck` (if any) the session afterwards; with `redis`, presence is kept under
    /// ``presenceKeys`` and room emits reach the other instances. The application's delegate is set
    /// on it afterwards.
    public static func makeServer(
        configuration: SocketIOServerConfiguration,
        verifier: AccessTokenVerifier,
        redis: RedisClient?,
        presenceTTLSeconds: Int = 90,
        sessionCheck: SessionCheck? = nil,
        logger: Logger
    ) -> SocketIOServer {
        var configuration = configuration
        configuration.namespace = Self.namespace
        configuration.busChannel = configuration.busChannel ?? Self.busChannel
        return SocketIOServer(
            configuration: configuration,
            hooks: NotificationGatewayHooks(verifier: verifier, sessionCheck: sessionCheck),
            redis: redis,
            presence: Self.presenceKeys,
            presenceTTLSeconds: presenceTTLSeconds,
            logger: logger
        )
    }

    /// `user_connected`'s payload: `{"event", "data": {"userId", "socketId"}, "timestamp"}`.
    public static func connectedPayload(userID: String, socketID: String, now: Date = Date()) -> JSONValue {
        .object([
            "event": .string(Self.connectedEvent),
            "data": .object(["userId": .string(userID), "socketId": .string(socketID)]),
            "timestamp": .string(Notification.timestamp(now)),
        ])
    }

    /// The original's `error` payload: `{"event": "error", "error": {"code", "message", "timestamp"}}`.
    public static func errorPayload(_ error: SocketIOClientError, now: Date = Date()) -> JSONValue {
        .object([
            "event": .string("error"),
            "error": .object([
                "code": .string(error.code), "message": .string(error.message),
                "timestamp": .string(Notification.timestamp(now)),
            ]),
        ])
    }
}

/// How sockets get into the notification gateway (``NotificationGateway``): the access token at
/// CONNECT (the `Authorization: Bearer` header first, then the auth payload's `token`), the
/// session check, the user's room, `user_connected`, and errors in the original's format.
public final class NotificationGatewayHooks: SocketIOServerHooks {
    let verifier: AccessTokenVerifier
    let sessionCheck: NotificationGateway.SessionCheck?

    public init(verifier: AccessTokenVerifier, sessionCheck: NotificationGateway.SessionCheck? = nil) {
        self.verifier = verifier
        self.sessionCheck = sessionCheck
    }

    public func authenticate(_ handshake: SocketIOHandshake, now: Date) throws(SocketIOClientError) -> SocketIOIdentity
    {
        let token = AccessTokenVerifier.token(authorizationHeader: handshake.authorization, auth: handshake.auth)
        return SocketIOIdentity(userID: try self.verifier.userID(from: token, now: now), credential: token)
    }

    /// The session check (when configured), then the user's room.
    public func admit(_ socket: SocketIOSocket, on server: SocketIOServer) async -> SocketIOClientError? {
        guard let userID = socket.userID else { return .invalidToken }
        if let sessionCheck, let token = socket.credential, let refusal = await sessionCheck(token, userID) {
            return refusal
        }
        server.join(socket, room: NotificationGateway.room(ofUser: userID))
        return nil
    }

    /// `user_connected`, once presence is written.
    public func connected(_ socket: SocketIOSocket, on server: SocketIOServer) async {
        guard let userID = socket.userID else { return }
        await socket.emit(
            NotificationGateway.connectedEvent,
            [NotificationGateway.connectedPayload(userID: userID, socketID: socket.id)])
    }

    public func errorEvent(_ error: SocketIOClientError, now: Date) -> (event: String, arguments: [JSONValue]) {
        ("error", [NotificationGateway.errorPayload(error, now: now)])
    }
}

extension SocketIOServer {
    /// Emits to every socket of `userID` (its room, ``NotificationGateway/room(ofUser:)``), on every
    /// instance. Returns how many sockets on this instance it was written to.
    @discardableResult
    public func emit(
        toUser userID: String, _ event: String, _ arguments: [JSONValue], wantsAck: Bool = false,
        context: [String: String] = [:]
    ) async -> Int {
        await self.emit(
            to: NotificationGateway.room(ofUser: userID), event, arguments, wantsAck: wantsAck, context: context)
    }
}
