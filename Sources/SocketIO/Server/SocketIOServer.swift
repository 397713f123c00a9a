import Foundation
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import RedisClient
import ServiceLifecycle

/// What the application does with connected sockets: their events, and what became of its room
/// emits (written to how many sockets, acknowledged by whom), on every instance.
public protocol SocketIOServerDelegate: Sendable {
    /// A socket is connected: authenticated, admitted and in its rooms, presence written, the
    /// connection hooks run (``SocketIOServerHooks``).
    func socketAuthenticated(_ socket: SocketIOSocket, userID: String) async
    /// An authenticated socket ended (`reason` as the session tells it); its rooms and presence
    /// are left already.
    func socketClosed(_ socket: SocketIOSocket, userID: String, reason: String) async
    /// An event from an authenticated socket; a non-nil answer is sent as its ack when it asked for one.
    func socket(_ socket: SocketIOSocket, userID: String, event: String, arguments: [JSONValue]) async -> [JSONValue]?
    /// A room emit (from this instance or another) was written to `sockets` local sockets of the room.
    func roomEmitDelivered(_ emit: RoomEmit, sockets: Int) async
    /// A client acknowledged a room emit that asked for acks.
    func roomEmitAcknowledged(_ emit: RoomEmit, userID: String, reply: [JSONValue]) async
}

extension SocketIOServerDelegate {
    public func socketAuthenticated(_ socket: SocketIOSocket, userID: String) async {}
    public func socketClosed(_ socket: SocketIOSocket, userID: String, reason: String) async {}
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
}

/// A Socket.IO v5 server for one namespace over Engine.IO v4 (long-polling with upgrade, and
/// WebSocket), with an authentication hook and connection hooks (``SocketIOServerHooks``), rooms,
/// acks, optional presence in Redis, and room emits shared across instances through Redis pub/sub
/// (the adapter for other instances). Runs as a `Service`: heartbeats, presence refresh (periodic,
/// and at once each time the Redis connection comes back) and the cross-instance subscription live
/// in its `run()`.
public final class SocketIOServer: Service, Sendable {
    public let configuration: SocketIOServerConfiguration
    let hooks: any SocketIOServerHooks
    let redis: RedisClient?
    let presence: PresenceStore?
    let logger: Logger
    private let registry = NIOLockedValueBox(Registry())
    private let delegateBox = NIOLockedValueBox<(any SocketIOServerDelegate)?>(nil)
    private let activeGauge = Gauge(label: "websocket.connections.active")
    private let subscribed = NIOLockedValueBox(false)
    /// Work that must not hold up the request or event loop that triggered it (the connection
    /// hooks, what a WebSocket's messages and close ask for), run by ``run()``'s task group. It
    /// outlives the start of graceful shutdown: a close under way then still clears its presence
    /// before `run()` returns and the Redis client stops.
    private let background = AsyncStream<@Sendable () async -> Void>.makeStream()

    struct Registry {
        var sockets: [String: SocketIOSocket] = [:]
        var rooms: [String: Set<String>] = [:]
        /// The rooms each socket joined, by `engineID` (left when it closes).
        var joined: [String: Set<String>] = [:]
        /// Connected sockets by user id, by `engineID`.
        var users: [String: Set<String>] = [:]
        /// Sessions that ended lately, by `sid`, with when: a poll the client had already sent
        /// when its session ended is answered with a `close` packet, not "Session ID unknown".
        var ended: [String: ContinuousClock.Instant] = [:]
        /// Sockets of closed sessions whose presence removal failed (Redis unavailable): removed
        /// again at the next presence rewrite (reconnect or refresh). At most ``maxUncleared``;
        /// beyond that, entries age out.
        var uncleared: Set<PresenceEntry> = []
        var shuttingDown = false
    }

    /// A user's socket, as presence records it.
    struct PresenceEntry: Hashable {
        var userID: String
        var socketID: String
    }

    /// How many failed presence removals are kept for a retry (about 100 bytes each).
    static let maxUncleared = 100_000

    /// How long an ended session's `sid` is remembered (see ``Registry/ended``).
    static let endedSessionMemory = Duration.seconds(30)

    /// Without `redis` the server is single-instance: emits stay local, and there is no presence.
    /// With `redis`, room emits reach the other instances; with `presence` too, who is connected
    /// is kept in Redis under those keys (``PresenceStore``), entries living `presenceTTLSeconds`
    /// without a refresh.
    public init(
        configuration: SocketIOServerConfiguration,
        hooks: any SocketIOServerHooks,
        redis: RedisClient?,
        presence: PresenceKeys? = nil,
        presenceTTLSeconds: Int = 90,
        logger: Logger
    ) {
        self.configuration = configuration
        self.hooks = hooks
        self.redis = redis
        self.presence = redis.flatMap { redis in
            presence.map {
                PresenceStore(
                    redis: redis, keys: $0, instanceID: configuration.instanceID, ttlSeconds: presenceTTLSeconds,
                    logger: logger)
            }
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
            && redis.confirmedSubscriptions.contains(.channel(self.configuration.channel))
    }

    /// Sockets on this instance.
    public var localSocketCount: Int { self.registry.withLockedValue { $0.sockets.count } }

    /// This instance's connected sockets of `userID`.
    public func localSockets(ofUser userID: String) -> [SocketIOSocket] {
        self.registry.withLockedValue { registry in
            (registry.users[userID] ?? []).compactMap { registry.sockets[$0] }
        }
    }

    /// This instance's sockets in `room` (nil: every authenticated socket).
    public func localSockets(inRoom room: String?) -> [SocketIOSocket] {
        self.sockets(inRoom: room)
    }

    /// Whether `userID` has a connected socket: local sockets first, then Redis presence; when
    /// Redis is down, local only (logged and counted, never thrown). Without presence, local only.
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
        self.inBackground {
            guard let socket = self.socket(engineID: sid) else { return }
            await self.process(socket.pollAbandoned(), of: socket)
        }
    }

    /// Hands `job` to ``run()``'s background work. Once `run()` has closed every socket at
    /// shutdown, nothing is left for a job to do, and it is dropped.
    func inBackground(_ job: @escaping @Sendable () async -> Void) {
        self.background.continuation.yield(job)
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

    // MARK: Rooms

    /// Puts a connected socket in `room` (from the connection hook, or later); it leaves every room
    /// when it closes. Nothing happens for a socket that closed already.
    public func join(_ socket: SocketIOSocket, room: String) {
        self.registry.withLockedValue { registry in
            guard registry.sockets[socket.engineID] != nil else { return }
            registry.rooms[room, default: []].insert(socket.engineID)
            registry.joined[socket.engineID, default: []].insert(room)
        }
    }

    /// Takes a socket out of `room`.
    public func leave(_ socket: SocketIOSocket, room: String) {
        self.registry.withLockedValue { registry in
            Self.remove(socket.engineID, from: room, &registry)
            registry.joined[socket.engineID]?.remove(room)
        }
    }

    private static func remove(_ engineID: String, from room: String, _ registry: inout Registry) {
        registry.rooms[room]?.remove(engineID)
        if registry.rooms[room]?.isEmpty == true { registry.rooms[room] = nil }
    }

    // MARK: Emitting

    /// Emits to every socket in `room` (nil: every socket of the namespace), on every instance.
    /// Returns how many sockets on this instance it was written to.
    @discardableResult
    public func emit(
        to room: String?, _ event: String, _ arguments: [JSONValue], wantsAck: Bool = false,
        context: [String: String] = [:]
    ) async -> Int {
        await self.emit(RoomEmit(room: room, event: event, arguments: arguments, wantsAck: wantsAck, context: context))
    }

    /// Emits to a room (nil: every socket of the namespace) here and on the other instances.
    @discardableResult
    public func emit(_ emit: RoomEmit) async -> Int {
        let written = await self.emitLocally(emit)
        if let redis {
            do {
                _ = try await redis.publish(
                    self.configuration.channel, BusMessage(origin: self.configuration.instanceID, emit: emit).buffer)
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
            hooks: self.hooks,
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
                // The connection hooks and presence run in the server's task group: the request or
                // WebSocket that carried the CONNECT goes on reading the client.
                self.inBackground { await self.authenticated(socket, userID: userID) }
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
        if let refusal = await self.hooks.admit(socket, on: self) {
            await self.process(socket.refuse(refusal), of: socket)
            return
        }
        let registered = self.registry.withLockedValue { registry -> Bool in
            guard registry.sockets[socket.engineID] != nil else { return false }
            registry.users[userID, default: []].insert(socket.engineID)
            return true
        }
        guard registered else { return }
        if let presence {
            do {
                try await presence.connected(userID: userID, socketID: socket.id)
                if socket.isClosed {
                    // The socket closed (a tab shut mid-handshake) while this ran: its own removal
                    // may have gone first, so remove again rather than leave a dead entry.
                    await self.clearPresence(presence, userID: userID, socketID: socket.id)
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
        await self.hooks.connected(socket, on: self)
        await self.delegate?.socketAuthenticated(socket, userID: userID)
    }

    private func closed(_ socket: SocketIOSocket, reason: String) async {
        let userID = socket.userID
        let wasConnected = self.registry.withLockedValue { registry -> Bool in
            registry.sockets[socket.engineID] = nil
            registry.ended[socket.engineID] = .now
            for room in registry.joined.removeValue(forKey: socket.engineID) ?? [] {
                Self.remove(socket.engineID, from: room, &registry)
            }
            guard let userID, registry.users[userID]?.remove(socket.engineID) != nil else { return false }
            if registry.users[userID]?.isEmpty == true { registry.users[userID] = nil }
            return true
        }
        self.activeGauge.record(self.localSocketCount)
        self.logger.debug(
            "socket.io: session ended",
            metadata: ["sid": "\(socket.engineID)", "socket": "\(socket.id)", "reason": "\(reason)"])
        guard let userID else { return }
        Counter(label: "websocket.disconnection").increment()
        Metrics.Timer(label: "websocket.connection.duration").record(duration: .now - socket.connectedAt)
        // Only a registered socket can have presence: `authenticated` writes it after registering
        // the socket, under the same lock that took it out here.
        guard wasConnected else { return }
        if let presence {
            await self.clearPresence(presence, userID: userID, socketID: socket.id)
        }
        await self.delegate?.socketClosed(socket, userID: userID, reason: reason)
    }

    // MARK: Service

    /// Heartbeats every socket, refreshes presence, and delivers other instances' room emits, until
    /// graceful shutdown; then closes every socket, and returns once the work sockets asked for
    /// (a close clearing presence, a delegate's event handling) has finished, or after
    /// ``shutdownDrainLimit``, when what is left of it is cancelled.
    public func run() async throws {
        await withTaskGroup(of: Bool.self) { group in
            // Not cancelled by graceful shutdown: it ends when the stream is finished below, after
            // the jobs already handed over.
            group.addTask {
                await withDiscardingTaskGroup { jobs in
                    for await job in self.background.stream {
                        jobs.addTask { await job() }
                    }
                }
                return true
            }
            await cancelWhenGracefulShutdown {
                await withDiscardingTaskGroup { group in
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
            self.background.continuation.finish()
            group.addTask {
                try? await Task.sleep(for: Self.shutdownDrainLimit)
                return false
            }
            if await group.next() == false, !Task.isCancelled {
                self.logger.warning(
                    "socket.io: work for closed sockets still running at shutdown; cancelled",
                    metadata: ["limit": "\(Self.shutdownDrainLimit)"])
            }
            group.cancelAll()
        }
    }

    /// How long ``run()`` waits at shutdown for the work sockets asked for before it cancels it.
    static let shutdownDrainLimit = Duration.seconds(10)

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
    /// restarted server has lost the presence keys, and other instances must not see the user
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

    /// Writes every local connected socket to presence, with a fresh expiry.
    private func writePresence(_ presence: PresenceStore, reason: String) async {
        do {
            try await self.writePresence(presence, self.presenceSnapshot())
        } catch {
            self.logger.warning(
                "socket.io: presence write failed", metadata: ["reason": "\(reason)", "error": "\(error)"])
            Counter(label: "websocket.presence.redis_unavailable").increment()
        }
    }

    /// Removes a closed socket from presence. When Redis is unavailable the removal is remembered
    /// and done again at the next presence rewrite (as soon as the Redis connection is back, or at
    /// the next refresh), so the user does not show online for the entry's whole lifetime, nor for
    /// as long as their other sockets keep the set alive.
    func clearPresence(_ presence: PresenceStore, userID: String, socketID: String) async {
        do {
            try await presence.disconnected(userID: userID, socketID: socketID)
        } catch {
            let kept = self.registry.withLockedValue { registry in
                guard registry.uncleared.count < Self.maxUncleared else { return false }
                registry.uncleared.insert(PresenceEntry(userID: userID, socketID: socketID))
                return true
            }
            self.logger.warning(
                kept
                    ? "socket.io: presence not cleared; Redis unavailable (retried when it is back, while this instance runs; else the entry ages out)"
                    : "socket.io: presence not cleared; Redis unavailable (too many to retry; the entry ages out)",
                metadata: ["error": "\(error)"])
            Counter(label: "websocket.presence.redis_unavailable").increment()
        }
    }

    /// How many failed presence removals wait for Redis to come back.
    var unclearedPresenceCount: Int { self.registry.withLockedValue { $0.uncleared.count } }

    /// Every local connected socket, by user id.
    func presenceSnapshot() -> [String: [SocketIOSocket]] {
        self.registry.withLockedValue { registry in
            registry.users.mapValues { $0.compactMap { registry.sockets[$0] } }
        }
    }

    /// Writes the sockets of `snapshot` to presence, with a fresh expiry. A socket that closed
    /// after the snapshot was taken may have had its removal reach Redis before this write: it is
    /// removed again, so the write never brings back a closed socket. (A socket still open when
    /// checked is removed by its own close, which comes after this write.)
    func writePresence(_ presence: PresenceStore, _ snapshot: [String: [SocketIOSocket]]) async throws {
        try await presence.refresh(snapshot.mapValues { $0.map(\.id) })
        for (userID, sockets) in snapshot {
            for socket in sockets where socket.isClosed {
                try await presence.disconnected(userID: userID, socketID: socket.id)
            }
        }
        // Removals that failed while Redis was unavailable.
        for entry in self.registry.withLockedValue({ $0.uncleared }) {
            try await presence.disconnected(userID: entry.userID, socketID: entry.socketID)
            _ = self.registry.withLockedValue { $0.uncleared.remove(entry) }
        }
    }

    private func deliverBusMessages(_ redis: RedisClient) async {
        do {
            let messages = try await redis.subscribe(.channel(self.configuration.channel))
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

    /// Closes every socket, side by side: shutdown waits for the slowest close, not for the sum.
    private func closeAll(reason: String) async {
        let sockets = self.registry.withLockedValue { registry in
            registry.shuttingDown = true
            return Array(registry.sockets.values)
        }
        await withDiscardingTaskGroup { group in
            for socket in sockets {
                group.addTask { await self.process(socket.close(reason), of: socket) }
            }
        }
    }

    /// A random id for an Engine.IO session or a socket: 15 bytes of the system's generator, in
    /// base64url (20 characters).
    static func randomID() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<15).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
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
