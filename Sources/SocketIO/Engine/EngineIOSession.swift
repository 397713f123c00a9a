/// One Engine.IO v4 session as a value type: long-polling with a parked GET, the upgrade to a
/// WebSocket (the upgrade socket joins, `2probe` is answered with `3probe` and a parked poll is
/// released with `noop` so the client can pause polling, then `5` moves the session onto the
/// WebSocket), server pings with a pong deadline, and `maxPayload`. Events return what the
/// transport layer must do; no I/O here.
public struct EngineIOSession: Sendable {
    public enum Transport: Sendable, Equatable {
        case polling
        case websocket
    }

    /// How far an upgrade has got.
    public enum Probe: Sendable, Equatable {
        /// The upgrade WebSocket joined; its `2probe` has not come yet.
        case awaitingProbe
        /// `3probe` went out and the client is pausing polling; `5` comes next.
        case answered
    }

    public enum State: Sendable, Equatable {
        case open(Transport)
        /// A WebSocket joined a polling session; polling still carries packets until `upgrade`.
        case upgrading(Probe)
        case closed(String)
    }

    public enum Action: Sendable, Equatable {
        case none
        /// Answer the parked (or just arrived) polling GET with these packets.
        case respondToPoll([EngineIOPacket])
        /// Hold the polling GET until there is something to send.
        case parkPoll
        case sendOnWebSocket([EngineIOPacket])
        /// Send `3probe` on the upgrade WebSocket and, when a poll is parked, answer it with these
        /// packets (a `noop`) so the client can pause polling and send `upgrade`.
        case answerProbe(releasingPoll: [EngineIOPacket]?)
        /// Socket.IO packets (the data of `message` packets) for the layer above.
        case deliver([String])
        /// End the session; answer a pending poll / close the WebSocket, with this reason.
        case close(String)
        /// Refuse the request (HTTP 400) without ending the session.
        case badRequest(String)
        /// Close the upgrade WebSocket (refused, or it broke the probe); the session goes on polling.
        case closeUpgradeSocket(String)
    }

    /// The close reason of a payload over `maxPayload`.
    public static let payloadTooLarge = "payload too large"
    /// The close reason of the client's own `close` packet: a request that carried it succeeded.
    public static let clientClosed = "client closed the session"

    /// The handshake as sent: `upgrades` lists what the first transport can move to, so
    /// `["websocket"]` for a polling session and nothing for a WebSocket one.
    public let handshake: EngineIOHandshake
    public private(set) var state: State = .open(.polling)
    private var outbox: [EngineIOPacket] = []
    private var pollParked = false
    /// A ping went out and its pong has not come back yet.
    public private(set) var awaitingPong = false

    /// A new session; the `open` packet is the first thing the client receives.
    public init(handshake: EngineIOHandshake, transport: Transport = .polling) {
        var handshake = handshake
        switch transport {
        case .polling: handshake.upgrades = ["websocket"]
        case .websocket: handshake.upgrades = []
        }
        self.handshake = handshake
        self.state = .open(transport)
        self.outbox = [.open(handshake)]
    }

    /// Whether a WebSocket may join this session to upgrade it: only a polling session with no
    /// upgrade under way.
    public var acceptsUpgrade: Bool { self.state == .open(.polling) }

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
            if self.state == .upgrading(.answered) {
                // The client is pausing polling: a poll must not be held, or `upgrade` waits for it.
                return .respondToPoll([.noop])
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

    /// A WebSocket with this session's `sid` arrived to upgrade it. Accepted (`.none`) only while
    /// polling with no other upgrade under way; a second probe socket, or one for a session already
    /// on WebSocket or closed, is refused and the session is left as it was.
    public mutating func upgradeSocketOpened() -> Action {
        switch self.state {
        case .open(.polling):
            self.state = .upgrading(.awaitingProbe)
            return .none
        case .upgrading:
            return .closeUpgradeSocket("an upgrade is already under way")
        case .open(.websocket):
            return .closeUpgradeSocket("the session already uses WebSocket")
        case .closed(let reason):
            return .closeUpgradeSocket(reason)
        }
    }

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
        case (.upgrading(.awaitingProbe), .ping("probe")):
            self.state = .upgrading(.answered)
            guard self.pollParked else { return .answerProbe(releasingPoll: nil) }
            // A parked poll means an empty outbox: the noop is all it gets.
            self.pollParked = false
            return .answerProbe(releasingPoll: [.noop])
        case (.upgrading(.answered), .upgrade):
            self.state = .open(.websocket)
            guard self.pollParked else { return self.flushToWebSocket() }
            // Not after a probe answer (polls are not parked then), but a poll must never be lost:
            // release it, then ``pendingForWebSocket()`` moves what is queued to the WebSocket.
            self.pollParked = false
            return .respondToPoll([.noop])
        case (.upgrading(.awaitingProbe), _):
            // Only `2probe` may open an upgrade; the session carries on polling.
            self.state = .open(.polling)
            return .closeUpgradeSocket("unexpected \(packet) before the probe")
        case (.upgrading(.answered), _):
            // The client paused polling for this socket: without it the session has no transport.
            return self.close("unexpected \(packet) on the upgrade socket")
        case (.open(.websocket), _):
            return self.received([packet])
        case (.open(.polling), _):
            return .closeUpgradeSocket("no upgrade under way")
        case (.closed(let reason), _):
            return .close(reason)
        }
    }

    /// The upgrade did not complete within `upgradeTimeout` of its socket joining (socket.io's
    /// 10 s): before the probe, only that socket is closed and polling goes on; after the probe
    /// answer the client has paused polling, so the session ends. Nothing once upgraded.
    public mutating func upgradeTimerFired() -> Action {
        switch self.state {
        case .upgrading(.awaitingProbe):
            self.state = .open(.polling)
            return .closeUpgradeSocket("upgrade timeout")
        case .upgrading(.answered):
            return self.close("upgrade timeout")
        case .open, .closed:
            return .none
        }
    }

    /// After the noop released the last poll, what queued for the WebSocket.
    public mutating func pendingForWebSocket() -> Action {
        guard self.state == .open(.websocket) else { return .none }
        return self.flushToWebSocket()
    }

    /// The session's WebSocket closed (the client's side or the network). Before the probe was
    /// answered the client still polls and the session goes on; after it, the client has paused
    /// polling for this socket, so, as for a WebSocket session, the session is over at once.
    public mutating func webSocketClosed(_ reason: String) -> Action {
        switch self.state {
        case .upgrading(.awaitingProbe):
            self.state = .open(.polling)
            return .none
        case .upgrading(.answered), .open(.websocket):
            return self.close(reason)
        case .open(.polling), .closed:
            return .none
        }
    }

    // MARK: Sending

    /// The layer above sends Socket.IO packets (as Engine.IO `message`s).
    public mutating func send(_ messages: [String]) -> Action {
        self.enqueue(messages.map { .message($0) })
    }

    /// Every `pingInterval`: a ping, or the end of a session whose last ping got no pong.
    public mutating func pingTimerFired() -> Action {
        if case .closed = self.state { return .none }
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
                return self.close(Self.clientClosed)
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
