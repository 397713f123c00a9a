import Foundation
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import RedisClient
import ServiceLifecycle

/// What the application does with sockets: the notification service replays undelivered
/// notifications on connect, answers `mark_notification_read`, and records deliveries and acks.
public protocol SocketIOServerDelegate: Sendable {
    /// A socket authenticated, joined `user_<id>` and got `user_connected`.
    func socketAuthenticated(_ socket: SocketIOSocket, userID: String) async
    /// An event from an authenticated socket; a non-nil answer is sent as its ack when it asked for one.
    func socket(_ socket: SocketIOSocket, userID: String, event: String, arguments: [JSONValue]) async -> [JSONValue]?
    /// A room emit (from this instance or another) was written to `sockets` local sockets of the room.
    func roomEmitDelivered(_ emit: RoomEmit, sockets: Int) async
    /// A client acknowledged a room emit that asked for acks.
    func roomEmitAcknowledged(_ emit: RoomEmit, userID: String, reply: [JSONValue]) async
}

extension SocketIOServerDelegate {
    public func socketAuthenticated(_ socket: SocketIOSocket, userID: String) async {}
    public func socket(_ socket: SocketIOSocket, userID: String, event: String, arguments: [JSONValue]) async
        -> [JSONValue]?
    { nil }
    public func roomEmitDelivered(_ emit: RoomEmit, sockets: Int) async {}
    public func roomEmitAcknowledged(_ emit: RoomEmit, userID: String, reply: [JSONValue]) async {}
}

/// An event sent to every socket in a room (nil: the whole namespace), on every instance.
public struct RoomEmit: Sendable, Equatable {
    public var room: String?
    public var event: String
    public var arguments: [JSONValue]
    public var wantsAck: Bool
    /// What the emitter says of this emit (e.g. the id and kind of what it carries), given back with
    /// its outcomes (``SocketIOServerDelegate/roomEmitDelivered(_:sockets:)`` and
    /// ``SocketIOServerDelegate/roomEmitAcknowledged(_:userID:reply:)``) on every instance that
    /// writes it, so that the application knows its emit without reading the arguments back. Never
    /// sent to clients.
    public var context: [String: String]

    public init(
        room: String?, event: String, arguments: [JSONValue], wantsAck: Bool = false, context: [String: String] = [:]
    ) {
        self.room = room
        self.event = event
        self.arguments = arguments
        self.wantsAck = wantsAck
        self.context = context
    }

    /// The room of a user's sockets (COMPAT.md 3.4).
    public static func userRoom(_ userID: String) -> String { "user_\(userID)" }
}

/// A Socket.IO v5 server for one namespace over Engine.IO v4 (long-polling with upgrade, and
/// WebSocket), with rooms, presence in Redis, and room emits shared across instances through
/// Redis pub/sub. Runs as a `Service`: heartbeats, presence refresh (periodic, and at once each time
/// the Redis connection comes back) and the cross-instance subscription live in its `run()`.
public final class SocketIOServer: Service, Sendable {
    public let configuration: SocketIOServerConfiguration
    let verifier: AccessTokenVerifier
    let redis: RedisClient?
    let presence: PresenceStore?
    let logger: Logger
    private let registry = NIOLockedValueBox(Registry())
    private let delegateBox = NIOLockedValueBox<(any SocketIOServerDelegate)?>(nil)
    private let activeGauge = Gauge(label: "websocket.connections.active")
    private let subscribed = NIOLockedValueBox(false)
    /// Work that must not hold up the request that triggered it (the delegate's connect handling),
    /// run by ``run()``'s task group.
    private let background = AsyncStream<@Sendable () async -> Void>.makeStream()

    struct Registry {
        var sockets: [String: SocketIOSocket] = [:]
        var rooms: [String: Set<String>] = [:]
        /// Sessions that ended lately, by `sid`, with when: a poll the client had already sent
        /// when its session ended is answered with a `close` packet, not "Session ID unknown".
        var ended: [String: ContinuousClock.Instant] = [:]
        var shuttingDown = false
    }

    /// How long an ended session's `sid` is remembered (see ``Registry/ended``).
    static let endedSessionMemory = Duration.seconds(30)

    /// Checks an authenticated socket's session (e.g. with the auth service); a refusal ends it.
    public typealias SessionCheck = @Sendable (_ token: String, _ userID: String) async -> AccessTokenVerifier.Refusal?

    let sessionCheck: SessionCheck?

    /// Without `redis` the server is single-instance: presence is local only, emits stay local.
    public init(
        configuration: SocketIOServerConfiguration,
        verifier: AccessTokenVerifier,
        redis: RedisClient?,
        presenceTTLSeconds: Int = 90,
        sessionCheck: SessionCheck? = nil,
        logger: Logger
    ) {
        self.configuration = configuration
        self.verifier = verifier
        self.sessionCheck = sessionCheck
        self.redis = redis
        self.presence = redis.map {
            PresenceStore(
                redis: $0, instanceID: configuration.instanceID, ttlSeconds: presenceTTLSeconds, logger: logger)
        }
        self.logger = logger
    }

    public func setDelegate(_ delegate: any SocketIOServerDelegate) {
        self.delegateBox.withLockedValue { $0 = delegate }
    }

    private var delegate: (any SocketIOServerDelegate)? { self.delegateBox.withLockedValue { $0 } }

    // MARK: Queries

    /// Whether room emits of other instances reach this one (always, without Redis): the bus
    /// subscription is registered and Redis confirmed it.
    public var isReady: Bool {
        guard let redis else { return true }
        return self.subscribed.withLockedValue { $0 }
            && redis.confirmedSubscriptions.contains(.channel(self.configuration.busChannel))
    }

    /// Sockets on this instance.
    public var localSocketCount: Int { self.registry.withLockedValue { $0.sockets.count } }

    /// This instance's authenticated sockets of `userID`.
    public func localSockets(ofUser userID: String) -> [SocketIOSocket] {
        self.sockets(inRoom: RoomEmit.userRoom(userID))
    }

    /// Local sockets first, then Redis presence; when Redis is down, local only (logged and
    /// counted, never thrown).
    public func isUserConnected(_ userID: String) async -> Bool {
        let local = !self.localSockets(ofUser: userID).isEmpty
        guard let presence else { return local }
        return await presence.isUserConnected(userID: userID, hasLocalSocket: local)
    }

    func socket(engineID: String) -> SocketIOSocket? {
        self.registry.withLockedValue { $0.sockets[engineID] }
    }

    /// The connection of a poll of session `sid` closed before the poll was answered: the session
    /// ends (in the server's task group: this is called from the connection's close).
    func pollAbandoned(sid: String) {
        self.background.continuation.yield {
            guard let socket = self.socket(engineID: sid) else { return }
            await self.process(socket.pollAbandoned(), of: socket)
        }
    }

    /// Whether session `sid` ended within ``endedSessionMemory``.
    func endedLately(_ sid: String) -> Bool {
        self.registry.withLockedValue { $0.sockets[sid] == nil && $0.ended[sid] != nil }
    }

    /// A polling GET for session `sid`: parks or answers as the session decides. A session that
    /// ended lately answers with a `close` packet: the client sent that poll before it heard of the
    /// end (socket.io-client polls again before it handles the packets of the last answer), and a
    /// 400 there is a console error in the browser. Nil: no such session.
    func poll(sid: String) async -> SocketIOSocket.PollResult? {
        guard let socket = self.socket(engineID: sid) else { return self.endedLately(sid) ? .packets([.close]) : nil }
        let (result, outcomes) = await socket.poll()
        await self.process(outcomes, of: socket)
        return result
    }

    private func sockets(inRoom room: String?) -> [SocketIOSocket] {
        self.registry.withLockedValue { registry in
            guard let room else { return registry.sockets.values.filter { $0.userID != nil } }
            return (registry.rooms[room] ?? []).compactMap { registry.sockets[$0] }
        }
    }

    // MARK: Emitting

    /// Emits to every socket of `userID`, on every instance. Returns how many sockets on this
    /// instance it was written to.
    @discardableResult
    public func emit(
        toUser userID: String, _ event: String, _ arguments: [JSONValue], wantsAck: Bool = false,
        context: [String: String] = [:]
    ) async -> Int {
        await self.emit(
            RoomEmit(
                room: RoomEmit.userRoom(userID), event: event, arguments: arguments, wantsAck: wantsAck,
                context: context))
    }

    /// Emits to a room (nil: every socket of the namespace) here and on the other instances.
    @discardableResult
    public func emit(_ emit: RoomEmit) async -> Int {
        let written = await self.emitLocally(emit)
        if let redis {
            do {
                _ = try await redis.publish(
                    self.configuration.busChannel, BusMessage(origin: self.configuration.instanceID, emit: emit).buffer)
            } catch {
                self.logger.warning(
                    "socket.io: could not share a room emit with other instances",
                    metadata: ["event": "\(emit.event)", "error": "\(error)"])
                Counter(label: "websocket.bus.publish_failed").increment()
            }
        }
        return written
    }

    /// Writes a room emit to the local sockets of its room and tells the delegate.
    private func emitLocally(_ emit: RoomEmit) async -> Int {
        let targets = self.sockets(inRoom: emit.room)
        guard !targets.isEmpty else { return 0 }
        let delegate = self.delegate
        let written = await withTaskGroup(of: Bool.self) { group in
            for socket in targets {
                group.addTask {
                    guard emit.wantsAck else { return await socket.emit(emit.event, emit.arguments) }
                    return await socket.emit(emit.event, emit.arguments) { (reply: [JSONValue]?) async in
                        guard let reply, let userID = socket.userID else { return }
                        await delegate?.roomEmitAcknowledged(emit, userID: userID, reply: reply)
                    }
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        if written > 0 {
            await delegate?.roomEmitDelivered(emit, sockets: written)
        }
        return written
    }

    // MARK: Sessions

    /// A new Engine.IO session.
    func open(transport: EngineIOSession.Transport, authorizationHeader: String?) -> SocketIOSocket? {
        let socket = SocketIOSocket(
            engineID: Self.randomID(),
            socketID: Self.randomID(),
            transport: transport,
            authorizationHeader: authorizationHeader,
            verifier: self.verifier,
            configuration: self.configuration
        )
        let accepted = self.registry.withLockedValue { registry -> Bool in
            guard !registry.shuttingDown else { return false }
            registry.sockets[socket.engineID] = socket
            return true
        }
        guard accepted else { return nil }
        self.activeGauge.record(self.localSocketCount)
        return socket
    }

    /// Runs what a socket asked for after handling input.
    func process(_ outcomes: [SocketIOSocket.Outcome], of socket: SocketIOSocket) async {
        for outcome in outcomes {
            switch outcome {
            case .authenticated(let userID):
                // Session check, room, presence and `user_connected` run in the server's task group:
                // the request or WebSocket that carried the CONNECT goes on reading the client.
                self.background.continuation.yield { await self.authenticated(socket, userID: userID) }
            case .event(let name, let arguments, let ackID):
                guard let userID = socket.userID else { continue }
                let reply = await self.delegate?.socket(socket, userID: userID, event: name, arguments: arguments)
                if let ackID {
                    socket.acknowledge(ackID, reply ?? [])
                }
            case .acknowledged(let handler, let reply):
                await handler(reply)
            case .closed(let reason):
                await self.closed(socket, reason: reason)
            }
        }
    }

    private func authenticated(_ socket: SocketIOSocket, userID: String) async {
        if let sessionCheck, let token = socket.token, let refusal = await sessionCheck(token, userID) {
            await self.process(socket.refuse(refusal), of: socket)
            return
        }
        let room = RoomEmit.userRoom(userID)
        self.registry.withLockedValue { registry in
            if registry.sockets[socket.engineID] != nil {
                registry.rooms[room, default: []].insert(socket.engineID)
            }
        }
        if let presence {
            do {
                try await presence.connected(userID: userID, socketID: socket.id)
                if socket.isClosed {
                    // The socket closed (a tab shut mid-handshake) while this ran: its own removal
                    // may have gone first, so remove again rather than leave a dead entry.
                    try await presence.disconnected(userID: userID, socketID: socket.id)
                    return
                }
            } catch {
                // The socket stays: the next presence refresh writes it once Redis is back.
                self.logger.warning(
                    "socket.io: presence not recorded; Redis unavailable", metadata: ["error": "\(error)"])
                Counter(label: "websocket.presence.redis_unavailable").increment()
            }
        }
        Counter(label: "websocket.connection", dimensions: [("status", "success")]).increment()
        await socket.emit(
            "user_connected",
            [
                .object([
                    "event": .string("user_connected"),
                    "data": .object(["userId": .string(userID), "socketId": .string(socket.id)]),
                    "timestamp": .string(SocketIONamespaceSession.timestamp(Date())),
                ])
            ]
        )
        await self.delegate?.socketAuthenticated(socket, userID: userID)
    }

    private func closed(_ socket: SocketIOSocket, reason: String) async {
        let userID = socket.userID
        self.registry.withLockedValue { registry in
            registry.sockets[socket.engineID] = nil
            registry.ended[socket.engineID] = .now
            if let userID {
                let room = RoomEmit.userRoom(userID)
                registry.rooms[room]?.remove(socket.engineID)
                if registry.rooms[room]?.isEmpty == true { registry.rooms[room] = nil }
            }
        }
        self.activeGauge.record(self.localSocketCount)
        self.logger.debug(
            "socket.io: session ended",
            metadata: ["sid": "\(socket.engineID)", "socket": "\(socket.id)", "reason": "\(reason)"])
        guard let userID else { return }
        Counter(label: "websocket.disconnection").increment()
        Metrics.Timer(label: "websocket.connection.duration").record(duration: .now - socket.connectedAt)
        if let presence {
            do {
                try await presence.disconnected(userID: userID, socketID: socket.id)
            } catch {
                self.logger.warning(
                    "socket.io: presence not cleared; Redis unavailable (the entry ages out)",
                    metadata: ["error": "\(error)"])
                Counter(label: "websocket.presence.redis_unavailable").increment()
            }
        }
    }

    // MARK: Service

    /// Heartbeats every socket, refreshes presence, and delivers other instances' room emits, until
    /// graceful shutdown; then closes every socket.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    await withDiscardingTaskGroup { jobs in
                        for await job in self.background.stream {
                            jobs.addTask { await job() }
                        }
                    }
                }
                group.addTask { await self.heartbeats() }
                if let presence = self.presence {
                    group.addTask { await self.refreshPresence(presence) }
                    let events = presence.redis.connectionEvents()
                    group.addTask { await self.rewritePresenceOnConnect(presence, events: events) }
                }
                if let redis = self.redis {
                    group.addTask { await self.deliverBusMessages(redis) }
                }
            }
        }
        await self.closeAll(reason: "server shutting down")
    }

    private func heartbeats() async {
        while !Task.isCancelled {
            let now = ContinuousClock.Instant.now
            let sockets = self.registry.withLockedValue { registry in
                registry.ended = registry.ended.filter { now - $0.value < Self.endedSessionMemory }
                return Array(registry.sockets.values)
            }
            for socket in sockets {
                await self.process(socket.tick(now: now), of: socket)
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
    }

    private func refreshPresence(_ presence: PresenceStore) async {
        let interval = Duration.seconds(max(1, presence.ttlSeconds / 3))
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            guard !Task.isCancelled else { return }
            await self.writePresence(presence, reason: "refresh")
        }
    }

    /// Rewrites the presence of every local socket as soon as the Redis connection is (back) up: a
    /// restarted server has lost `user_sockets:<id>`, and other instances must not see the user
    /// offline until the next refresh.
    private func rewritePresenceOnConnect(_ presence: PresenceStore, events: AsyncStream<RedisConnectionEvent>) async {
        for await event in events {
            switch event {
            case .connected:
                await self.writePresence(presence, reason: "redis connected")
            case .disconnected:
                continue
            }
        }
    }

    /// Writes every local authenticated socket to presence, with a fresh expiry.
    private func writePresence(_ presence: PresenceStore, reason: String) async {
        var byUser: [String: [String]] = [:]
        for socket in self.registry.withLockedValue({ Array($0.sockets.values) }) {
            if let userID = socket.userID { byUser[userID, default: []].append(socket.id) }
        }
        do {
            try await presence.refresh(byUser)
        } catch {
            self.logger.warning(
                "socket.io: presence write failed", metadata: ["reason": "\(reason)", "error": "\(error)"])
            Counter(label: "websocket.presence.redis_unavailable").increment()
        }
    }

    private func deliverBusMessages(_ redis: RedisClient) async {
        do {
            let messages = try await redis.subscribe(.channel(self.configuration.busChannel))
            self.subscribed.withLockedValue { $0 = true }
            // Ends when the server is cancelled (shutdown): the stream's iteration stops.
            await withDiscardingTaskGroup { group in
                for await message in messages {
                    guard let bus = BusMessage(message.payload) else {
                        self.logger.warning("socket.io: ignored a malformed cross-instance message")
                        continue
                    }
                    guard bus.origin != self.configuration.instanceID else { continue }
                    group.addTask { _ = await self.emitLocally(bus.emit) }
                }
            }
            await messages.unsubscribe()
        } catch {
            self.logger.error(
                "socket.io: cannot subscribe to room emits of other instances", metadata: ["error": "\(error)"])
        }
    }

    private func closeAll(reason: String) async {
        let sockets = self.registry.withLockedValue { registry in
            registry.shuttingDown = true
            return Array(registry.sockets.values)
        }
        for socket in sockets {
            await self.process(socket.close(reason), of: socket)
        }
    }

    static func randomID() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<15).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return AccessTokenSigner.base64URL(Data(bytes))
    }
}

/// A room emit as instances exchange it over Redis:
/// `{"origin", "room", "event", "arguments", "ack", "context"}` (`context`: an object of strings).
struct BusMessage: Sendable, Equatable {
    var origin: String
    var emit: RoomEmit

    init(origin: String, emit: RoomEmit) {
        self.origin = origin
        self.emit = emit
    }

    init?(_ buffer: ByteBuffer) {
        guard let value = try? JSONValue.parse(Substring(String(buffer: buffer))),
            let origin = value["origin"]?.stringValue, let event = value["event"]?.stringValue,
            case .array(let arguments)? = value["arguments"]
        else { return nil }
        var wantsAck = false
        if case .bool(let ack)? = value["ack"] { wantsAck = ack }
        var context: [String: String] = [:]
        if case .object(let members)? = value["context"] {
            for member in members {
                guard let text = member.value.stringValue else { return nil }
                context[member.key] = text
            }
        }
        self.origin = origin
        self.emit = RoomEmit(
            room: value["room"]?.stringValue, event: event, arguments: arguments, wantsAck: wantsAck, context: context)
    }

    var buffer: ByteBuffer {
        let json = JSONValue.object([
            "origin": .string(self.origin),
            "room": self.emit.room.map(JSONValue.string) ?? .null,
            "event": .string(self.emit.event),
            "arguments": .array(self.emit.arguments),
            "ack": .bool(self.emit.wantsAck),
            "context": .object(
                self.emit.context.sorted { $0.key < $1.key }.map { JSONValue.JSONMember($0.key, .string($0.value)) }),
        ])
        return ByteBuffer(string: json.text)
    }
}
