import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket

/// Engine.IO's HTTP side: long-polling GET/POST, CORS preflight, and the WebSocket upgrade (a new
/// WebSocket session, or the upgrade of a polling session by `sid`).
extension SocketIOServer {
    /// Engine.IO's error answers (HTTP 400 with `{"code", "message"}`).
    enum EngineIOHTTPError: Int {
        case unknownTransport = 0
        case unknownSession = 1
        case badRequest = 3
        case unsupportedProtocolVersion = 5

        var message: String {
            switch self {
            case .unknownTransport: "Transport unknown"
            case .unknownSession: "Session ID unknown"
            case .badRequest: "Bad request"
            case .unsupportedProtocolVersion: "Unsupported protocol version"
            }
        }
    }

    /// The long-polling routes and the CORS preflight, on the service's HTTP router.
    public func registerRoutes<Context: RequestContext>(on router: Router<Context>) {
        let path = RouterPath(self.configuration.path)
        router.get(path) { request, _ in await self.pollingGet(request) }
        router.post(path) { request, _ in await self.pollingPost(request) }
        router.on(path, method: .options) { request, _ in
            Response(status: .noContent, headers: self.corsHeaders(request, preflight: true))
        }
    }

    /// The WebSocket settings to serve ``registerWebSocketRoute(on:)`` with: frames may be somewhat
    /// larger than `maxPayload` so that a message just over it is read whole and refused with close
    /// code 1009; Engine.IO's own pings replace WebSocket pings.
    public var webSocketConfiguration: WebSocketServerConfiguration {
        WebSocketServerConfiguration(maxFrameSize: self.configuration.maxPayload + 65_536, autoPing: .disabled)
    }

    /// The WebSocket route, on the router given to `http1WebSocketUpgrade`.
    public func registerWebSocketRoute<Context: WebSocketRequestContext>(on router: Router<Context>) {
        router.ws(
            RouterPath(self.configuration.path),
            shouldUpgrade: { request, _ in
                let query = request.uri.queryParameters
                guard query["EIO"].map(String.init) == "4", query["transport"].map(String.init) == "websocket" else {
                    return .dontUpgrade
                }
                if let sid = query["sid"].map(String.init) {
                    // Unknown, closed, already upgraded or upgrading: answered 400 by the HTTP route.
                    guard let socket = self.socket(engineID: sid), socket.acceptsUpgrade else { return .dontUpgrade }
                }
                return .upgrade([:])
            },
            onUpgrade: { inbound, outbound, context in
                let request = context.request
                let socket: SocketIOSocket
                let upgrade: Bool
                if let sid = request.uri.queryParameters["sid"].map(String.init) {
                    // Returning closes the WebSocket: the session ended since `shouldUpgrade`.
                    guard let existing = self.socket(engineID: sid) else { return }
                    socket = existing
                    upgrade = true
                } else {
                    upgrade = false
                    guard
                        let opened = self.open(
                            transport: .websocket, authorizationHeader: request.headers[.authorization])
                    else { return }
                    socket = opened
                }
                try await self.serveWebSocket(socket, upgrade: upgrade, inbound: inbound, outbound: outbound)
            }
        )
    }

    private func serveWebSocket(
        _ socket: SocketIOSocket, upgrade: Bool, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter
    ) async throws {
        // Set when the client's side ended first: then the library answers the close (with 1009 for
        // an oversized message) and the writer must not close with its own code.
        let readerEnded = NIOLockedValueBox(false)
        let writer = WebSocketFrameWriter(
            write: { try await outbound.write(.text($0)) },
            onFinish: {
                // The session ended on our side: close the WebSocket, which ends the reader below.
                guard !readerEnded.withLockedValue({ $0 }) else { return }
                let tooLarge = socket.closeReason == EngineIOSession.payloadTooLarge
                try? await outbound.close(tooLarge ? .messageTooLarge : .normalClosure, reason: nil)
            }
        )
        let (attached, outcomes) = socket.attachWebSocket(sink: writer, upgrade: upgrade)
        writer.arm(closing: attached != nil)
        await self.process(outcomes, of: socket)
        // Refused (a second probe socket, or the session changed since `shouldUpgrade`): returning
        // closes this WebSocket and leaves the session as it was.
        guard let generation = attached else { return }
        var readerError: (any Error)?
        do {
            for try await message in inbound.messages(maxSize: self.configuration.maxPayload) {
                switch message {
                case .text(let text):
                    await self.process(socket.webSocketText(text), of: socket)
                case .binary:
                    // Binary Socket.IO attachments are not part of this protocol's events.
                    continue
                }
            }
            readerEnded.withLockedValue { $0 = true }
            await self.process(socket.webSocketClosed(generation, reason: "transport close"), of: socket)
        } catch {
            readerEnded.withLockedValue { $0 = true }
            readerError = error
            await self.process(socket.webSocketClosed(generation, reason: "transport error"), of: socket)
        }
        // What was queued is written (or fails) before the library closes the WebSocket.
        writer.finish()
        await writer.drained()
        if let readerError {
            // The WebSocket library closes with the matching code (1009 for a message over maxPayload).
            throw readerError
        }
    }

    private func pollingGet(_ request: Request) async -> Response {
        var headers = self.corsHeaders(request, preflight: false)
        let query = request.uri.queryParameters
        if let refusal = Self.checkPolling(query, sessionExists: { self.socket(engineID: $0) != nil }) {
            return Self.engineError(refusal, headers: headers)
        }
        let result: SocketIOSocket.PollResult
        if let sid = query["sid"].map(String.init) {
            // A client that goes away (a tab closed) aborts its parked poll: the session has no
            // transport left and ends now, as socket.io ends it, not at the ping timeout (45 s).
            // Reading the connection to its end means Hummingbird closes it after the answer, so
            // the answer says so (`Connection: close`): no client reuses it for its next request.
            let answered = NIOLockedValueBox(false)
            let answer = try? await request.body.consumeWithInboundCloseHandler { _ in
                let answer = await self.poll(sid: sid)
                answered.withLockedValue { $0 = true }
                return answer
            } onInboundClosed: {
                guard !answered.withLockedValue({ $0 }) else { return }
                self.pollAbandoned(sid: sid)
            }
            guard let answer else {
                return Self.engineError(.unknownSession, headers: headers)
            }
            result = answer
            headers[.connection] = "close"
        } else {
            guard let opened = self.open(transport: .polling, authorizationHeader: request.headers[.authorization])
            else { return Response(status: .serviceUnavailable, headers: headers) }
            let (answer, outcomes) = await opened.poll()
            await self.process(outcomes, of: opened)
            result = answer
        }
        switch result {
        case .packets(let packets):
            return Self.text(EngineIOPacket.encodePayload(packets), headers: headers)
        case .badRequest:
            return Self.engineError(.badRequest, headers: headers)
        }
    }

    private func pollingPost(_ request: Request) async -> Response {
        let headers = self.corsHeaders(request, preflight: false)
        let query = request.uri.queryParameters
        if let refusal = Self.checkPolling(query, sessionExists: { self.socket(engineID: $0) != nil }) {
            return Self.engineError(refusal, headers: headers)
        }
        guard let sid = query["sid"].map(String.init) else {
            return Self.engineError(.unknownSession, headers: headers)
        }
        guard let socket = self.socket(engineID: sid) else {
            // The client's own `close` for a session that ended meanwhile (a client that closes
            // mid-upgrade drops the probe socket and posts `close` at once): it is closed already.
            if self.endedLately(sid), let body = try? await request.body.collect(upTo: 16), String(buffer: body) == "1"
            {
                return Self.text("ok", headers: headers)
            }
            self.logger.debug("socket.io: polling POST for an unknown session", metadata: ["sid": "\(sid)"])
            return Self.engineError(.unknownSession, headers: headers)
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: self.configuration.maxPayload)
        } catch {
            await self.process(socket.transportClosed(EngineIOSession.payloadTooLarge), of: socket)
            return Response(status: .contentTooLarge, headers: headers)
        }
        let (refusal, outcomes) = socket.post(String(buffer: body), byteCount: body.readableBytes)
        await self.process(outcomes, of: socket)
        if let refusal {
            self.logger.debug("socket.io: polling POST refused", metadata: ["sid": "\(sid)", "reason": "\(refusal)"])
            return Self.engineError(.badRequest, headers: headers)
        }
        return Self.text("ok", headers: headers)
    }

    /// Why a polling request (or a WebSocket request that was not upgraded and so reached the HTTP
    /// routes) is refused: a probe for an unknown or closed session is "Session ID unknown", one
    /// for a session that is upgrading or upgraded already is "Bad request", as socket.io answers.
    static func checkPolling(_ query: Parameters, sessionExists: (String) -> Bool) -> EngineIOHTTPError? {
        guard query["EIO"].map(String.init) == "4" else { return .unsupportedProtocolVersion }
        switch query["transport"].map(String.init) {
        case "polling":
            return nil
        case "websocket":
            guard let sid = query["sid"].map(String.init) else { return .badRequest }
            return sessionExists(sid) ? .badRequest : .unknownSession
        default:
            return .unknownTransport
        }
    }

    private func corsHeaders(_ request: Request, preflight: Bool) -> HTTPFields {
        var headers = HTTPFields()
        guard let origin = self.configuration.allowedOrigin(request.headers[.origin]) else { return headers }
        headers[.accessControlAllowOrigin] = origin
        if origin != "*" {
            headers[.accessControlAllowCredentials] = "true"
            headers[.vary] = "Origin"
        }
        if preflight {
            headers[.accessControlAllowMethods] = "GET, POST"
            headers[.accessControlAllowHeaders] = "Authorization, Content-Type"
        }
        return headers
    }

    private static func text(_ text: String, headers: HTTPFields) -> Response {
        var headers = headers
        headers[.contentType] = "text/plain; charset=UTF-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    private static func engineError(_ error: EngineIOHTTPError, headers: HTTPFields) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        let body = JSONValue.object(["code": .number(Double(error.rawValue)), "message": .string(error.message)])
        return Response(status: .badRequest, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body.text)))
    }
}

/// Writes a WebSocket's frames in order, each frame's waiters hearing whether it was written, with
/// no task of its own while there is nothing to write: a task starts when a frame is queued and
/// ends when the queue is empty (an idle socket holds only this object). After ``finish()`` and the
/// last write, `onFinish` runs once if ``arm(closing:)`` said so (not for a refused attachment).
final class WebSocketFrameWriter: SocketIOSocket.FrameSink {
    private struct State {
        var queue: [SocketIOSocket.Frame] = []
        var writing = false
        var finished = false
        var failed = false
        /// Whether `onFinish` runs at the end; nil until the attachment was decided.
        var closing: Bool?
        /// Finished and written before the attachment was decided: ``arm(closing:)`` ends it.
        var endPending = false
        var drained = false
        var drainWaiter: CheckedContinuation<Void, Never>?
    }

    private let writeText: @Sendable (String) async throws -> Void
    private let onFinish: @Sendable () async -> Void
    private let state = NIOLockedValueBox(State())

    /// `write` sends one text frame (the WebSocket's outbound writer).
    init(write: @escaping @Sendable (String) async throws -> Void, onFinish: @escaping @Sendable () async -> Void) {
        self.writeText = write
        self.onFinish = onFinish
    }

    func yield(_ frame: SocketIOSocket.Frame) {
        let start = self.state.withLockedValue { state -> Bool? in
            guard !state.finished else { return nil }
            state.queue.append(frame)
            guard !state.writing else { return false }
            state.writing = true
            return true
        }
        switch start {
        case nil:
            // Nothing is written after the end; its waiters hear so.
            for waiter in frame.written { waiter.resume(returning: false) }
        case true?:
            Task { await self.write() }
        case false?:
            break
        }
    }

    func finish() {
        let start = self.state.withLockedValue { state -> Bool in
            guard !state.finished else { return false }
            state.finished = true
            guard !state.writing else { return false }
            state.writing = true
            return true
        }
        if start { Task { await self.write() } }
    }

    /// Whether the end runs `onFinish` (the WebSocket was attached) or not (it was refused).
    func arm(closing: Bool) {
        let end = self.state.withLockedValue { state -> Bool in
            state.closing = closing
            defer { state.endPending = false }
            return state.endPending
        }
        if end { Task { await self.end() } }
    }

    /// Returns once ``finish()`` was called and everything before it was written.
    func drained() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = self.state.withLockedValue { state -> Bool in
                guard !state.drained else { return true }
                state.drainWaiter = continuation
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Writes until the queue is empty; the one writing task at a time.
    private func write() async {
        while true {
            let (frames, finishing, failed) = self.state.withLockedValue { state in
                let frames = state.queue
                state.queue.removeAll()
                if frames.isEmpty && !state.finished { state.writing = false }
                return (frames, state.finished && frames.isEmpty, state.failed)
            }
            if finishing { break }
            if frames.isEmpty { return }
            var failedNow = failed
            for frame in frames {
                if !failedNow {
                    do {
                        try await self.writeText(frame.text)
                    } catch {
                        failedNow = true
                    }
                }
                for waiter in frame.written { waiter.resume(returning: !failedNow) }
            }
            if failedNow != failed { self.state.withLockedValue { $0.failed = true } }
        }
        let decided = self.state.withLockedValue { state -> Bool in
            if state.closing == nil { state.endPending = true }
            return state.closing != nil
        }
        if decided { await self.end() }
    }

    private func end() async {
        if self.state.withLockedValue({ $0.closing == true }) { await self.onFinish() }
        let waiter = self.state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            state.drained = true
            defer { state.drainWaiter = nil }
            return state.drainWaiter
        }
        waiter?.resume()
    }
}
