import HTTPTypes
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Engine.IO's HTTP side: long-polling GET/POST and CORS preflight. The WebSocket upgrade is
/// ``SocketIOHTTPChannel``'s (see ``httpServer(limits:)``).
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

        /// The answer's body, `{"code", "message"}`.
        var json: String {
            JSONValue.object(["code": .number(Double(self.rawValue)), "message": .string(self.message)]).text
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

    /// Runs what a socket asked for after WebSocket input, which the event loop cannot wait for:
    /// in order per socket, by a task of the server's background work that exists only while some
    /// are queued (so graceful shutdown waits for it).
    func processInOrder(_ outcomes: [SocketIOSocket.Outcome], of socket: SocketIOSocket) {
        guard !outcomes.isEmpty, socket.queue(outcomes) else { return }
        self.inBackground {
            while let next = socket.nextQueuedOutcomes() {
                await self.process(next, of: socket)
            }
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
        return Response(status: .badRequest, headers: headers, body: .init(byteBuffer: ByteBuffer(string: error.json)))
    }
}
