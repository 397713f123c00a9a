import Foundation

/// The Socket.IO side of one client connection to the server's namespace, as a value type: CONNECT
/// with the authentication hook (the namespace connects, then a refusal gets the hooks' error event
/// and a DISCONNECT), events from the client, acks both ways. Events return the Socket.IO packets
/// to send and what the server must do; no I/O here.
public struct SocketIONamespaceSession: Sendable {
    public enum State: Sendable, Equatable {
        case awaitingConnect
        case authenticated(userID: String)
        case disconnected
    }

    public enum Outcome: Sendable, Equatable {
        case none
        /// The authentication hook accepted the client: the server runs the connection hooks.
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
    /// The credential the authentication hook kept (for a later check in the connection hook).
    public private(set) var credential: String?
    private var nextAckID = 0
    private let hooks: any SocketIOServerHooks
    private let authorizationHeader: String?

    /// `authorizationHeader` is the handshake request's `Authorization` header, given to the
    /// authentication hook with the CONNECT auth payload.
    public init(
        namespace: String,
        socketID: String,
        hooks: any SocketIOServerHooks,
        authorizationHeader: String?
    ) {
        self.namespace = namespace
        self.socketID = socketID
        self.hooks = hooks
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
            let handshake = SocketIOHandshake(
                namespace: self.namespace, authorization: self.authorizationHeader, auth: packet.data)
            do {
                let identity = try self.hooks.authenticate(handshake, now: now)
                self.state = .authenticated(userID: identity.userID)
                self.credential = identity.credential
                return ([connected.text], .authenticated(userID: identity.userID))
            } catch let refusal {
                self.state = .disconnected
                let disconnect = SocketIOPacket(type: .disconnect, namespace: self.namespace)
                return ([connected.text, self.errorEvent(refusal, now: now), disconnect.text], .disconnected)
            }
        case (.authenticated, .event):
            guard let (name, arguments) = packet.eventNameAndArguments else { return ([], .none) }
            return ([], .event(name: name, arguments: arguments, ackID: packet.ackID))
        case (.awaitingConnect, .event):
            return ([self.errorEvent(.notAuthenticated, now: now)], .none)
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

    /// The hooks' event for `error` (``SocketIOServerHooks/errorEvent(_:now:)``).
    func errorEvent(_ error: SocketIOClientError, now: Date) -> String {
        let (event, arguments) = self.hooks.errorEvent(error, now: now)
        return SocketIOPacket.event(event, arguments, namespace: self.namespace).text
    }
}
