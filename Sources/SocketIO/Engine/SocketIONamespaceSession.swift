import Foundation

/// The Socket.IO side of one client connection to the `/notifications` namespace, as a value type:
/// CONNECT with authentication as the original does it (COMPAT.md 3.4: the namespace connects, then
/// a refused token gets an `error` event and a DISCONNECT), events from the client, acks both ways.
/// Events return the Socket.IO packets to send and what the gateway must do; no I/O here.
public struct SocketIONamespaceSession: Sendable {
    public enum State: Sendable, Equatable {
        case awaitingConnect
        case authenticated(userID: String)
        case disconnected
    }

    public enum Outcome: Sendable, Equatable {
        case none
        /// A valid token: join `user_<id>`, record presence, emit `user_connected`, push undelivered.
        case authenticated(userID: String)
        /// The client sent an event (an ack id when it wants an answer).
        case event(name: String, arguments: [JSONValue], ackID: Int?)
        /// The client acknowledged one of our emits.
        case ackReceived(id: Int, arguments: [JSONValue])
        /// The namespace connection ended (client DISCONNECT, or our refusal).
        case disconnected
    }

    public let namespace: String
    public let socketID: String
    public private(set) var state: State = .awaitingConnect
    /// The access token the socket authenticated with (for a later session check).
    public private(set) var token: String?
    private var nextAckID = 0
    private let verifier: AccessTokenVerifier
    private let authorizationHeader: String?

    /// `authorizationHeader` is the handshake request's `Authorization` header, checked before the
    /// CONNECT auth payload.
    public init(
        namespace: String = "/notifications",
        socketID: String,
        verifier: AccessTokenVerifier,
        authorizationHeader: String?
    ) {
        self.namespace = namespace
        self.socketID = socketID
        self.verifier = verifier
        self.authorizationHeader = authorizationHeader
    }

    /// Handles one Socket.IO packet's text; returns the packets to send (in order) and the outcome.
    public mutating func received(_ text: String, now: Date = Date()) -> (send: [String], outcome: Outcome) {
        let packet: SocketIOPacket
        do {
            packet = try SocketIOPacket.parse(text)
        } catch {
            // A malformed packet ends the connection, as socket.io does.
            self.state = .disconnected
            return ([], .disconnected)
        }
        switch (self.state, packet.type) {
        case (.awaitingConnect, .connect):
            guard packet.namespace == self.namespace else {
                let refusal = SocketIOPacket(
                    type: .connectError,
                    namespace: packet.namespace,
                    data: .object(["message": .string("Invalid namespace")])
                )
                return ([refusal.text], .none)
            }
            let connected = SocketIOPacket(
                type: .connect,
                namespace: self.namespace,
                data: .object(["sid": .string(self.socketID)])
            )
            let token = AccessTokenVerifier.token(authorizationHeader: self.authorizationHeader, auth: packet.data)
            do {
                let userID = try self.verifier.userID(from: token, now: now)
                self.state = .authenticated(userID: userID)
                self.token = token
                return ([connected.text], .authenticated(userID: userID))
            } catch let refusal {
                self.state = .disconnected
                let disconnect = SocketIOPacket(type: .disconnect, namespace: self.namespace)
                return (
                    [connected.text, self.errorEvent(refusal.code, refusal.message, now: now), disconnect.text],
                    .disconnected
                )
            }
        case (.authenticated, .event):
            guard let (name, arguments) = packet.eventNameAndArguments else { return ([], .none) }
            return ([], .event(name: name, arguments: arguments, ackID: packet.ackID))
        case (.awaitingConnect, .event):
            return ([self.errorEvent("NOT_AUTHENTICATED", "User not authenticated", now: now)], .none)
        case (.authenticated, .ack):
            guard let id = packet.ackID, case .array(let arguments) = packet.data else { return ([], .none) }
            return ([], .ackReceived(id: id, arguments: arguments))
        case (_, .disconnect):
            self.state = .disconnected
            return ([], .disconnected)
        case (.disconnected, _):
            return ([], .none)
        default:
            return ([], .none)
        }
    }

    /// An EVENT to this socket; with `wantsAck`, it carries a new ack id, returned beside the text.
    public mutating func emit(_ event: String, _ arguments: [JSONValue], wantsAck: Bool = false) -> (
        text: String, ackID: Int?
    ) {
        var ackID: Int?
        if wantsAck {
            ackID = self.nextAckID
            self.nextAckID += 1
        }
        return (SocketIOPacket.event(event, arguments, namespace: self.namespace, ackID: ackID).text, ackID)
    }

    /// The answer to a client's event that asked for an ack.
    public func ack(_ id: Int, _ arguments: [JSONValue]) -> String {
        SocketIOPacket(type: .ack, namespace: self.namespace, ackID: id, data: .array(arguments)).text
    }

    /// The original's `user_connected` payload.
    public func userConnectedEvent(userID: String, now: Date = Date()) -> String {
        self.emitText(
            "user_connected",
            .object([
                "event": .string("user_connected"),
                "data": .object(["userId": .string(userID), "socketId": .string(self.socketID)]),
                "timestamp": .string(Self.timestamp(now)),
            ])
        )
    }

    /// The original's `error` event: `{"event": "error", "error": {"code", "message", "timestamp"}}`.
    func errorEvent(_ code: String, _ message: String, now: Date) -> String {
        self.emitText(
            "error",
            .object([
                "event": .string("error"),
                "error": .object([
                    "code": .string(code), "message": .string(message), "timestamp": .string(Self.timestamp(now)),
                ]),
            ])
        )
    }

    private func emitText(_ event: String, _ payload: JSONValue) -> String {
        SocketIOPacket.event(event, [payload], namespace: self.namespace).text
    }

    /// ISO-8601 UTC with milliseconds, as JavaScript's `toISOString()`.
    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
