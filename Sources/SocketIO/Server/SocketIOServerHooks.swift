import Foundation

/// What a client presents when it connects to the namespace: the Engine.IO handshake's
/// `Authorization` header and the CONNECT packet's auth payload.
public struct SocketIOHandshake: Sendable, Equatable {
    /// The namespace the client connects to.
    public var namespace: String
    /// The `Authorization` header of the request that opened the Engine.IO session.
    public var authorization: String?
    /// The CONNECT packet's data (socket.io-client's `auth` option).
    public var auth: JSONValue?

    public init(namespace: String, authorization: String?, auth: JSONValue?) {
        self.namespace = namespace
        self.authorization = authorization
        self.auth = auth
    }
}

/// Who a socket is, as the authentication hook found. `userID` groups a user's sockets (presence,
/// ``SocketIOServer/localSockets(ofUser:)``); `credential` is kept with the socket for later
/// checks (``SocketIOSocket/credential``), e.g. a session lookup in ``SocketIOServerHooks/admit(_:on:)``.
public struct SocketIOIdentity: Sendable, Equatable {
    public var userID: String
    public var credential: String?

    public init(userID: String, credential: String? = nil) {
        self.userID = userID
        self.credential = credential
    }
}

/// An error the server tells a client about, as an event (see ``SocketIOServerHooks/errorEvent(_:now:)``):
/// a refused connection, an event over the socket's limits, an event before authentication.
public struct SocketIOClientError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(self.code): \(self.message)" }

    /// An event from a socket that has not authenticated (it stays connected).
    public static let notAuthenticated = SocketIOClientError(
        code: "NOT_AUTHENTICATED", message: "User not authenticated")
    /// An event over the socket's rate (``SocketIOServerConfiguration/eventsPerSecond``); dropped.
    public static let rateLimited = SocketIOClientError(code: "RATE_LIMIT_EXCEEDED", message: "Too many events")
    /// An event over ``SocketIOServerConfiguration/maxEventBytes``; dropped.
    public static let messageTooLarge = SocketIOClientError(
        code: "MESSAGE_TOO_LARGE", message: "Message exceeds the size limit")
}

/// How sockets get in, given to ``SocketIOServer`` by the application: the authentication hook at
/// CONNECT, the connection hooks after it, and how errors are told to clients.
///
/// The sequence of a connection: CONNECT is answered (`{"sid"}`) and ``authenticate(_:now:)``
/// runs at once; a refusal sends ``errorEvent(_:now:)`` and a DISCONNECT (the client sees
/// `connect`, the error, `disconnect`). Otherwise, in the server's task group: ``admit(_:on:)``
/// (may refuse the same way; joins rooms), then presence is written when the server keeps it, then
/// ``connected(_:on:)``, then the delegate's ``SocketIOServerDelegate/socketAuthenticated(_:userID:)``.
public protocol SocketIOServerHooks: Sendable {
    /// The authentication hook: who the handshake's credentials name, or why not. Runs while the
    /// socket's input is handled, so it must not block (no I/O; do that in ``admit(_:on:)``).
    func authenticate(_ handshake: SocketIOHandshake, now: Date) throws(SocketIOClientError) -> SocketIOIdentity

    /// The connection hook, first: a refusal (e.g. a revoked session) ends the socket with the
    /// error event; otherwise join the socket's rooms here (``SocketIOServer/join(_:room:)``).
    func admit(_ socket: SocketIOSocket, on server: SocketIOServer) async -> SocketIOClientError?

    /// The connection hook, last: the socket is in its rooms and presence; e.g. a welcome event.
    func connected(_ socket: SocketIOSocket, on server: SocketIOServer) async

    /// The event (name and arguments) that tells a client about `error`.
    func errorEvent(_ error: SocketIOClientError, now: Date) -> (event: String, arguments: [JSONValue])
}

extension SocketIOServerHooks {
    public func admit(_ socket: SocketIOSocket, on server: SocketIOServer) async -> SocketIOClientError? { nil }

    public func connected(_ socket: SocketIOSocket, on server: SocketIOServer) async {}

    /// `error` with `{"code", "message"}`.
    public func errorEvent(_ error: SocketIOClientError, now: Date) -> (event: String, arguments: [JSONValue]) {
        ("error", [.object(["code": .string(error.code), "message": .string(error.message)])])
    }
}
