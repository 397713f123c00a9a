import Foundation
import NIOConcurrencyHelpers

/// One client connection: its Engine.IO session, its namespace session, and the transport under
/// them (a parked long-poll or a WebSocket writer). Every transport effect happens under one lock,
/// in order; what the server must do afterwards (hooks, rooms, presence, the delegate) comes back as
/// ``Outcome``s for the caller to run outside the lock.
public final class SocketIOSocket: Sendable {
    /// What the server does after the socket handled something.
    enum Outcome: Sendable {
        case authenticated(userID: String)
        case event(name: String, arguments: [JSONValue], ackID: Int?)
        case closed(reason: String)
        /// The client's acknowledgement of one of our emits (nil: timed out or closed first).
        case acknowledged(AckHandler, [JSONValue]?)
    }

    /// Receives a client's acknowledgement, or nil when it did not come.
    public typealias AckHandler = @Sendable ([JSONValue]?) async -> Void

    /// What a polling GET answers.
    enum PollResult: Sendable, Equatable {
        case packets([EngineIOPacket])
        case badRequest(String)
    }

    /// A text frame for the WebSocket writer; `written` hears whether it left.
    struct Frame: Sendable {
        var text: String
        var written: [CheckedContinuation<Bool, Never>]
    }

    /// Where an attached WebSocket's frames go, in order; `finish` ends it (no frames after it).
    protocol FrameSink: Sendable {
        func yield(_ frame: Frame)
        func finish()
    }

    /// Frames into an `AsyncStream` (the tests read them there).
    struct StreamSink: FrameSink {
        let continuation: AsyncStream<Frame>.Continuation

        func yield(_ frame: Frame) { self.continuation.yield(frame) }
        func finish() { self.continuation.finish() }
    }

    private struct AckWaiter: Sendable {
        var deadline: ContinuousClock.Instant
        var handler: AckHandler
    }

    private struct State: Sendable {
        var engine: EngineIOSession
        var namespace: SocketIONamespaceSession
        var userID: String?
        var parkedPoll: CheckedContinuation<PollResult, Never>?
        var webSocket: (any FrameSink)?
        /// Counts attached WebSockets, so that the end of a refused or replaced one is told apart.
        var webSocketGeneration = 0
        /// Emits waiting for their packet to leave (the polling outbox or the WebSocket).
        var flushWaiters: [CheckedContinuation<Bool, Never>] = []
        var acks: [Int: AckWaiter] = [:]
        var nextPing: ContinuousClock.Instant
        var pongDeadline: ContinuousClock.Instant?
        /// When an upgrade that has not completed is given up (see ``upgradeTimeout``).
        var upgradeDeadline: ContinuousClock.Instant?
        var bucket: TokenBucket
        var closedReason: String?
        /// Outcomes of WebSocket input waiting for the server (see ``queue(_:)``).
        var queuedOutcomes: [Outcome] = []
        var runningOutcomes = false
    }

    /// How long a probe socket may take to complete the upgrade (socket.io's `upgradeTimeout`).
    static let upgradeTimeout = Duration.seconds(10)

    /// The Engine.IO session id (`sid` in the handshake and the query string).
    public let engineID: String
    /// The Socket.IO socket id (CONNECT answer, presence member).
    public let id: String
    public let connectedAt: ContinuousClock.Instant
    private let configuration: SocketIOServerConfiguration
    private let state: NIOLockedValueBox<State>

    init(
        engineID: String,
        socketID: String,
        transport: EngineIOSession.Transport,
        authorizationHeader: String?,
        hooks: any SocketIOServerHooks,
        configuration: SocketIOServerConfiguration,
        now: ContinuousClock.Instant = .now
    ) {
        self.engineID = engineID
        self.id = socketID
        self.connectedAt = now
        self.configuration = configuration
        self.state = NIOLockedValueBox(
            State(
                engine: EngineIOSession(handshake: configuration.handshake(sid: engineID), transport: transport),
                namespace: SocketIONamespaceSession(
                    namespace: configuration.namespace,
                    socketID: socketID,
                    hooks: hooks,
                    authorizationHeader: authorizationHeader
                ),
                nextPing: now + configuration.pingInterval,
                bucket: TokenBucket(rate: configuration.eventsPerSecond, burst: configuration.eventBurst, now: now)
            )
        )
    }

    /// The authenticated user, nil before authentication.
    public var userID: String? { self.state.withLockedValue { $0.userID } }
    public var isClosed: Bool { self.closeReason != nil }
    /// Why the session ended, nil while it is open.
    public var closeReason: String? { self.state.withLockedValue { $0.closedReason } }
    /// Whether a polling GET is parked, waiting for something to send (tests wait on it).
    var hasParkedPoll: Bool { self.state.withLockedValue { $0.parkedPoll != nil } }
    /// Whether a WebSocket may join to upgrade this session (a polling session, no upgrade under way).
    var acceptsUpgrade: Bool { self.state.withLockedValue { $0.engine.acceptsUpgrade } }

    // MARK: Transport input

    /// A polling GET: answers at once, or parks until there is something to send.
    func poll() async -> (PollResult, [Outcome]) {
        var outcomes: [Outcome] = []
        var pausing = false
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<PollResult, Never>) in
            self.state.withLockedValue { state in
                if state.closedReason != nil {
                    // Ended while this poll was on its way: tell the client, as a parked poll is told.
                    continuation.resume(returning: .packets([.close]))
                    return
                }
                switch state.engine.pollRequested() {
                case .parkPoll:
                    state.parkedPoll = continuation
                case .respondToPoll(let packets):
                    Self.resolveFlushWaiters(&state, true)
                    pausing = packets == [.noop]
                    continuation.resume(returning: .packets(packets))
                case .badRequest(let reason):
                    continuation.resume(returning: .badRequest(reason))
                case .close(let reason):
                    outcomes += Self.closed(&state, reason: reason)
                    continuation.resume(returning: .badRequest(reason))
                default:
                    continuation.resume(returning: .badRequest("unexpected poll"))
                }
            }
        }
        if pausing {
            // The probe was answered and the client is pausing polling, but this poll may have left
            // before it read `3probe` (another connection): answer it, yet not at once, or the
            // client's polls spin until it reads the probe answer (socket.io sends its `noop`
            // every 100 ms).
            try? await Task.sleep(for: Self.pausingPollDelay)
        }
        return (result, outcomes)
    }

    /// How long a poll that arrives while the client is pausing polling is held before its `noop`.
    static let pausingPollDelay = Duration.milliseconds(50)

    /// A polling POST's body.
    func post(_ payload: String, byteCount: Int, now: ContinuousClock.Instant = .now) -> (String?, [Outcome]) {
        self.state.withLockedValue { state in
            var outcomes: [Outcome] = []
            let action = state.engine.postReceived(payload, byteCount: byteCount)
            if case .badRequest(let reason) = action { return (reason, []) }
            self.apply(action, &state, &outcomes, now: now)
            // A POST that carried the client's own `close` is answered `ok`, as socket.io does
            // (a 400 there is a console error in every browser that logs out).
            if case .close(let reason) = action, reason != EngineIOSession.clientClosed { return (reason, outcomes) }
            return (nil, outcomes)
        }
    }

    /// A WebSocket for this session is ready (`upgrade`: it joins a polling session by `sid`);
    /// frames for it arrive on `frames`. Returns the attachment's number for
    /// ``webSocketClosed(_:reason:)``, or nil when the session refused it (`frames` is finished).
    func attachWebSocket(_ frames: AsyncStream<Frame>.Continuation, upgrade: Bool) -> (Int?, [Outcome]) {
        self.attachWebSocket(sink: StreamSink(continuation: frames), upgrade: upgrade)
    }

    /// ``attachWebSocket(_:upgrade:)`` with any sink for the frames.
    func attachWebSocket(sink frames: any FrameSink, upgrade: Bool) -> (Int?, [Outcome]) {
        self.state.withLockedValue { state in
            var outcomes: [Outcome] = []
            let action = upgrade ? state.engine.upgradeSocketOpened() : state.engine.webSocketOpened()
            var refused = state.closedReason != nil
            if case .closeUpgradeSocket = action { refused = true }
            guard !refused else {
                frames.finish()
                return (nil, [])
            }
            state.webSocketGeneration += 1
            state.webSocket = frames
            if upgrade { state.upgradeDeadline = .now + Self.upgradeTimeout }
            self.apply(action, &state, &outcomes, now: .now)
            return (state.webSocketGeneration, outcomes)
        }
    }

    /// The WebSocket attached as `generation` ended (client, network or our close). A probe
    /// socket that ends before its probe was answered leaves the session polling; otherwise the
    /// session has no transport left and ends now.
    func webSocketClosed(_ generation: Int, reason: String) -> [Outcome] {
        self.state.withLockedValue { state in
            guard generation == state.webSocketGeneration else { return [] }
            state.webSocket?.finish()
            state.webSocket = nil
            var outcomes: [Outcome] = []
            self.apply(state.engine.webSocketClosed(reason), &state, &outcomes, now: .now)
            return outcomes
        }
    }

    /// A text message arrived on the WebSocket.
    func webSocketText(_ text: String, now: ContinuousClock.Instant = .now) -> [Outcome] {
        self.state.withLockedValue { state in
            var outcomes: [Outcome] = []
            let action = state.engine.webSocketTextReceived(text)
            self.apply(action, &state, &outcomes, now: now)
            if case .respondToPoll = action {
                // The upgrade released the parked poll; what queued meanwhile goes to the WebSocket.
                self.apply(state.engine.pendingForWebSocket(), &state, &outcomes, now: now)
            }
            return outcomes
        }
    }

    /// The connection of the parked poll closed before it was answered: the client is gone (a
    /// polling client never drops a poll it waits on), so the session ends. Nothing happens when no
    /// poll is parked (it was answered meanwhile).
    func pollAbandoned() -> [Outcome] {
        self.state.withLockedValue { state in
            guard state.parkedPoll != nil else { return [] }
            var outcomes: [Outcome] = []
            self.apply(state.engine.transportClosed("poll connection closed prematurely"), &state, &outcomes, now: .now)
            return outcomes
        }
    }

    /// The transport went away (WebSocket closed, server shutting down).
    func transportClosed(_ reason: String) -> [Outcome] {
        self.state.withLockedValue { state in
            var outcomes: [Outcome] = []
            self.apply(state.engine.transportClosed(reason), &state, &outcomes, now: .now)
            return outcomes
        }
    }

    /// Heartbeat: a ping when due, the end of a session whose pong is late, expired acks.
    func tick(now: ContinuousClock.Instant) -> [Outcome] {
        self.state.withLockedValue { state -> [Outcome] in
            guard state.closedReason == nil else { return [] }
            var outcomes: [Outcome] = []
            if let deadline = state.pongDeadline, now >= deadline {
                state.pongDeadline = nil
                if state.engine.awaitingPong {
                    self.apply(state.engine.transportClosed("ping timeout"), &state, &outcomes, now: now)
                    return outcomes
                }
            }
            if let deadline = state.upgradeDeadline, now >= deadline {
                state.upgradeDeadline = nil
                self.apply(state.engine.upgradeTimerFired(), &state, &outcomes, now: now)
                if state.closedReason != nil { return outcomes }
            }
            if now >= state.nextPing {
                state.nextPing = now + self.configuration.pingInterval
                state.pongDeadline = now + self.configuration.pingTimeout
                self.apply(state.engine.pingTimerFired(), &state, &outcomes, now: now)
            }
            for (id, waiter) in state.acks where waiter.deadline <= now {
                state.acks[id] = nil
                outcomes.append(.acknowledged(waiter.handler, nil))
            }
            return outcomes
        }
    }

    /// Queues outcomes of WebSocket input for the server, which runs them in order; true when the
    /// caller must start running them (nothing is running yet).
    func queue(_ outcomes: [Outcome]) -> Bool {
        self.state.withLockedValue { state in
            state.queuedOutcomes += outcomes
            guard !state.runningOutcomes else { return false }
            state.runningOutcomes = true
            return true
        }
    }

    /// The queued outcomes, or nil when there are none (the runner ends; the next ``queue(_:)``
    /// starts another).
    func nextQueuedOutcomes() -> [Outcome]? {
        self.state.withLockedValue { state in
            guard !state.queuedOutcomes.isEmpty else {
                state.runningOutcomes = false
                return nil
            }
            defer { state.queuedOutcomes = [] }
            return state.queuedOutcomes
        }
    }

    // MARK: Output

    /// Emits an event to this socket. Returns true once the packet was written to the WebSocket or
    /// handed to a long-poll, false when the socket closed first. With `onAck`, the client's
    /// acknowledgement (or nil after the ack timeout) is passed to it.
    @discardableResult
    public func emit(
        _ event: String,
        _ arguments: [JSONValue],
        onAck: AckHandler? = nil
    ) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            self.state.withLockedValue { state in
                guard state.closedReason == nil, state.userID != nil else {
                    continuation.resume(returning: false)
                    return
                }
                let (text, ackID) = state.namespace.emit(event, arguments, wantsAck: onAck != nil)
                if let ackID, let onAck {
                    state.acks[ackID] = AckWaiter(deadline: .now + self.configuration.ackTimeout, handler: onAck)
                }
                state.flushWaiters.append(continuation)
                var outcomes: [Outcome] = []
                self.apply(state.engine.send([text]), &state, &outcomes, now: .now)
            }
        }
    }

    /// Emits and waits for the client's acknowledgement; nil when it did not come in time or the
    /// socket closed.
    public func emitWithAck(_ event: String, _ arguments: [JSONValue]) async -> [JSONValue]? {
        let (replies, continuation) = AsyncStream<[JSONValue]?>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let sent = await self.emit(event, arguments) { reply in
            continuation.yield(reply)
            continuation.finish()
        }
        if !sent {
            // Never sent, or the socket closed (which answered the ack with nil).
            continuation.finish()
        }
        for await reply in replies {
            return reply
        }
        return nil
    }

    /// The credential the authentication hook kept (``SocketIOIdentity/credential``).
    public var credential: String? { self.state.withLockedValue { $0.namespace.credential } }

    /// Refuses an authenticated socket after all (the connection hook refused it): the hooks'
    /// error event and a DISCONNECT, then the session ends.
    func refuse(_ refusal: SocketIOClientError) -> [Outcome] {
        self.state.withLockedValue { state in
            var outcomes: [Outcome] = []
            let disconnect = SocketIOPacket(type: .disconnect, namespace: self.configuration.namespace)
            let error = state.namespace.errorEvent(refusal, now: Date())
            self.apply(state.engine.send([error, disconnect.text]), &state, &outcomes, now: .now)
            outcomes += Self.closed(&state, reason: "session refused")
            return outcomes
        }
    }

    /// Answers a client's event that asked for an acknowledgement.
    func acknowledge(_ id: Int, _ arguments: [JSONValue]) {
        self.state.withLockedValue { state in
            guard state.closedReason == nil else { return }
            var outcomes: [Outcome] = []
            self.apply(state.engine.send([state.namespace.ack(id, arguments)]), &state, &outcomes, now: .now)
        }
    }

    /// Ends the session (server side), e.g. at shutdown.
    func close(_ reason: String) -> [Outcome] {
        self.transportClosed(reason)
    }

    // MARK: Internals

    /// Carries out one Engine.IO action under the lock.
    private func apply(
        _ action: EngineIOSession.Action,
        _ state: inout State,
        _ outcomes: inout [Outcome],
        now: ContinuousClock.Instant
    ) {
        switch action {
        case .none, .badRequest:
            return
        case .parkPoll:
            return
        case .respondToPoll(let packets):
            guard let parked = state.parkedPoll else { return }
            state.parkedPoll = nil
            parked.resume(returning: .packets(packets))
            Self.resolveFlushWaiters(&state, true)
        case .answerProbe(let releasingPoll):
            state.webSocket?.yield(Frame(text: EngineIOPacket.pong("probe").text, written: []))
            if let releasingPoll, let parked = state.parkedPoll {
                state.parkedPoll = nil
                parked.resume(returning: .packets(releasingPoll))
            }
        case .closeUpgradeSocket:
            state.webSocket?.finish()
            state.webSocket = nil
        case .sendOnWebSocket(let packets):
            guard let webSocket = state.webSocket else { return }
            for (index, packet) in packets.enumerated() {
                let last = index == packets.count - 1
                var frame = Frame(text: packet.text, written: [])
                if last {
                    frame.written = state.flushWaiters
                    state.flushWaiters.removeAll()
                }
                webSocket.yield(frame)
            }
        case .deliver(let messages):
            for message in messages {
                self.received(message, &state, &outcomes, now: now)
            }
        case .close(let reason):
            outcomes += Self.closed(&state, reason: reason)
        }
    }

    /// One Socket.IO packet from the client.
    private func received(
        _ text: String, _ state: inout State, _ outcomes: inout [Outcome], now: ContinuousClock.Instant
    ) {
        let isEvent = text.first == "2"
        if isEvent, state.userID != nil {
            if text.utf8.count > self.configuration.maxEventBytes {
                self.sendError(.messageTooLarge, &state, &outcomes, now: now)
                return
            }
            if !state.bucket.take(now: now) {
                self.sendError(.rateLimited, &state, &outcomes, now: now)
                return
            }
        }
        let (send, outcome) = state.namespace.received(text)
        if !send.isEmpty {
            self.apply(state.engine.send(send), &state, &outcomes, now: now)
        }
        switch outcome {
        case .none:
            break
        case .authenticated(let userID):
            state.userID = userID
            outcomes.append(.authenticated(userID: userID))
        case .event(let name, let arguments, let ackID):
            outcomes.append(.event(name: name, arguments: arguments, ackID: ackID))
        case .ackReceived(let id, let arguments):
            if let waiter = state.acks.removeValue(forKey: id) {
                outcomes.append(.acknowledged(waiter.handler, arguments))
            }
        case .disconnected:
            // A refused CONNECT or the client leaving the namespace: the user no longer counts as
            // connected; the Engine.IO session ends with the client or the next ping timeout.
            if state.userID != nil {
                outcomes += Self.closed(&state, reason: "client namespace disconnect")
                // The Engine.IO session is over for us too.
                _ = state.engine.transportClosed("client namespace disconnect")
            }
        }
    }

    private func sendError(
        _ error: SocketIOClientError, _ state: inout State, _ outcomes: inout [Outcome], now: ContinuousClock.Instant
    ) {
        let text = state.namespace.errorEvent(error, now: Date())
        self.apply(state.engine.send([text]), &state, &outcomes, now: now)
    }

    /// The session ended: release every waiter, end the WebSocket writer.
    private static func closed(_ state: inout State, reason: String) -> [Outcome] {
        guard state.closedReason == nil else { return [] }
        state.closedReason = reason
        state.parkedPoll?.resume(returning: .packets([.close]))
        state.parkedPoll = nil
        resolveFlushWaiters(&state, false)
        state.webSocket?.finish()
        state.webSocket = nil
        let acks = state.acks.values.map { Outcome.acknowledged($0.handler, nil) }
        state.acks.removeAll()
        return [.closed(reason: reason)] + acks
    }

    private static func resolveFlushWaiters(_ state: inout State, _ sent: Bool) {
        let waiters = state.flushWaiters
        state.flushWaiters.removeAll()
        for waiter in waiters {
            waiter.resume(returning: sent)
        }
    }
}
