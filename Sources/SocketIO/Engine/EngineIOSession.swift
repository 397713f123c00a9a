/// One Engine.IO v4 session as a value type: long-polling with a parked GET, the upgrade to a
/// WebSocket (probe, `upgrade`, `noop` to release the parked poll), server pings with a pong
/// deadline, and `maxPayload`. Events return what the transport layer must do; no I/O here.
public struct EngineIOSession: Sendable {
    public enum Transport: Sendable, Equatable {
        case polling
        case websocket
    }

    public enum State: Sendable, Equatable {
        case open(Transport)
        /// A WebSocket answered the probe; polling still carries packets until `upgrade`.
        case upgrading
        case closed(String)
    }

    public enum Action: Sendable, Equatable {
        case none
        /// Answer the parked (or just arrived) polling GET with these packets.
        case respondToPoll([EngineIOPacket])
        /// Hold the polling GET until there is something to send.
        case parkPoll
        case sendOnWebSocket([EngineIOPacket])
        /// Socket.IO packets (the data of `message` packets) for the layer above.
        case deliver([String])
        /// End the session; answer a pending poll / close the WebSocket, with this reason.
        case close(String)
        /// Refuse the request (HTTP 400) without ending the session.
        case badRequest(String)
    }

    /// The close reason of a payload over `maxPayload`.
    public static let payloadTooLarge = "payload too large"

    public let handshake: EngineIOHandshake
    public private(set) var state: State = .open(.polling)
    private var outbox: [EngineIOPacket] = []
    private var pollParked = false
    /// A ping went out and its pong has not come back yet.
    public private(set) var awaitingPong = false

    /// A new session; the `open` packet is the first thing the client receives.
    public init(handshake: EngineIOHandshake, transport: Transport = .polling) {
        self.handshake = handshake
        self.state = .open(transport)
        self.outbox = [.open(handshake)]
    }

    /// What a WebSocket-first session sends at once (its `open` packet).
    public mutating func webSocketOpened() -> Action {
        guard self.state == .open(.websocket) else { return .none }
        return self.flushToWebSocket()
    }

    // MARK: Polling

    /// A polling GET arrived.
    public mutating func pollRequested() -> Action {
        switch self.state {
        case .open(.polling), .upgrading:
            guard !self.pollParked else {
                // Two concurrent polls break the protocol (socket.io answers 400 and closes).
                return self.close("overlapping polling requests")
            }
            if !self.outbox.isEmpty {
                defer { self.outbox.removeAll() }
                return .respondToPoll(self.outbox)
            }
            self.pollParked = true
            return .parkPoll
        case .open(.websocket):
            return .badRequest("the session uses WebSocket")
        case .closed(let reason):
            return .close(reason)
        }
    }

    /// A polling POST arrived with `payload` of `byteCount` bytes.
    public mutating func postReceived(_ payload: String, byteCount: Int) -> Action {
        switch self.state {
        case .open(.polling), .upgrading:
            guard byteCount <= self.handshake.maxPayload else { return self.close(Self.payloadTooLarge) }
            do {
                return self.received(try EngineIOPacket.parsePayload(payload))
            } catch {
                return self.close("\(error)")
            }
        case .open(.websocket):
            return .badRequest("the session uses WebSocket")
        case .closed(let reason):
            return .close(reason)
        }
    }

    // MARK: WebSocket

    /// A text frame arrived on the session's WebSocket (the upgrade socket included).
    public mutating func webSocketTextReceived(_ text: String) -> Action {
        guard text.utf8.count <= self.handshake.maxPayload else { return self.close(Self.payloadTooLarge) }
        let packet: EngineIOPacket
        do {
            packet = try EngineIOPacket.parse(Substring(text))
        } catch {
            return self.close("\(error)")
        }
        switch (self.state, packet) {
        case (.open(.polling), .ping("probe")):
            self.state = .upgrading
            return .sendOnWebSocket([.pong("probe")])
        case (.upgrading, .upgrade):
            self.state = .open(.websocket)
            let parked = self.pollParked
            self.pollParked = false
            // The parked GET is released with a noop; then ``pendingForWebSocket()`` moves what
            // is queued to the WebSocket.
            return parked ? .respondToPoll([.noop]) : self.flushToWebSocket()
        case (.open(.websocket), _):
            return self.received([packet])
        case (.closed(let reason), _):
            return .close(reason)
        default:
            return self.close("unexpected \(packet) on the upgrade socket")
        }
    }

    /// After the noop released the last poll, what queued for the WebSocket.
    public mutating func pendingForWebSocket() -> Action {
        guard self.state == .open(.websocket) else { return .none }
        return self.flushToWebSocket()
    }

    // MARK: Sending

    /// The layer above sends Socket.IO packets (as Engine.IO `message`s).
    public mutating func send(_ messages: [String]) -> Action {
        self.enqueue(messages.map { .message($0) })
    }

    /// Every `pingInterval`: a ping, or the end of a session whose last ping got no pong.
    public mutating func pingTimerFired() -> Action {
        guard case .open = self.state else {
            if case .upgrading = self.state { return self.enqueue([.ping("")]) }
            return .none
        }
        if self.awaitingPong {
            return self.close("ping timeout")
        }
        self.awaitingPong = true
        return self.enqueue([.ping("")])
    }

    /// The transport went away (WebSocket closed, or no poll within the ping timeout).
    public mutating func transportClosed(_ reason: String) -> Action {
        self.close(reason)
    }

    // MARK: Internals

    private mutating func enqueue(_ packets: [EngineIOPacket]) -> Action {
        switch self.state {
        case .open(.websocket):
            return .sendOnWebSocket(packets)
        case .open(.polling), .upgrading:
            self.outbox += packets
            guard self.pollParked else { return .none }
            self.pollParked = false
            defer { self.outbox.removeAll() }
            return .respondToPoll(self.outbox)
        case .closed:
            return .none
        }
    }

    private mutating func flushToWebSocket() -> Action {
        guard !self.outbox.isEmpty else { return .none }
        defer { self.outbox.removeAll() }
        return .sendOnWebSocket(self.outbox)
    }

    private mutating func received(_ packets: [EngineIOPacket]) -> Action {
        var messages: [String] = []
        for packet in packets {
            switch packet {
            case .pong:
                self.awaitingPong = false
            case .message(let text):
                messages.append(text)
            case .close:
                return self.close("client closed the session")
            case .noop, .ping, .binary, .upgrade, .open:
                // Clients do not ping in v4; binary Socket.IO attachments are not supported here.
                continue
            }
        }
        return messages.isEmpty ? .none : .deliver(messages)
    }

    private mutating func close(_ reason: String) -> Action {
        if case .closed(let existing) = self.state { return .close(existing) }
        self.state = .closed(reason)
        self.outbox.removeAll()
        self.pollParked = false
        return .close(reason)
    }
}
