import HTTPServerLimits
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket

/// The HTTP/1 child channel of a server that serves Socket.IO: requests go to Hummingbird's
/// responder (the long-polling routes and everything else of the service), and a WebSocket
/// upgrade of the Engine.IO path ends in a synchronous pipeline (NIO's frame decoder and encoder,
/// then an ``EngineIOWebSocketHandler``). For an upgraded connection ``handle(value:logger:)``
/// returns at once: no task, no `NIOAsyncChannel` and no request kept while the socket lives.
struct SocketIOHTTPChannel: ServerChildChannel, HTTPChannelHandler {
    enum UpgradeResult: Sendable {
        /// The WebSocket's handlers are in place; the channel lives on without a task.
        case webSocket
        case notUpgraded(HTTP1Channel.Value)
        /// A WebSocket request that is not upgraded (unknown or not upgradable `sid`, another
        /// path): 400, with Engine.IO's error for its path, and the connection closed. (NIO does
        /// not pass the refused request's head on, so the responder cannot answer it.)
        case failedUpgrade(HTTP1Channel.Value, SocketIOServer.EngineIOHTTPError?)
    }

    struct Value: ServerChildChannelValue {
        let upgradeResult: EventLoopFuture<UpgradeResult>
        let channel: any Channel
    }

    /// Hummingbird's responder, except that a WebSocket upgrade request that reaches it on a
    /// connection that served another request first is redirected to a new connection (NIO
    /// upgrades only the first request of a connection).
    let responder: HTTPChannelHandler.Responder
    private let server: SocketIOServer
    private let http1: HTTP1Channel.Configuration

    init(responder: @escaping HTTPChannelHandler.Responder, server: SocketIOServer, http1: HTTP1Channel.Configuration) {
        self.responder = Self.redirectingUpgrades(responder)
        self.server = server
        self.http1 = http1
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let server = self.server
            let http1 = self.http1
            // Set when the request asked for a WebSocket: nil for an upgrade, else the refusal.
            let refusal = NIOLoopBoundBox<Refusal?>(nil, eventLoop: channel.eventLoop)
            let upgrader = NIOTypedWebSocketServerUpgrader<UpgradeResult>(
                // A frame over maxPayload is refused (1009) before it is read.
                maxFrameSize: server.configuration.maxPayload,
                // The handler answers protocol errors itself (close codes, the session told).
                enableAutomaticErrorHandling: false,
                shouldUpgrade: { channel, head in
                    let accepted = head.method == .GET && server.acceptsWebSocket(uri: head.uri)
                    if !accepted { refusal.value = Refusal(error: server.webSocketRefusal(uri: head.uri)) }
                    return channel.eventLoop.makeSucceededFuture(accepted ? HTTPHeaders() : nil)
                },
                upgradePipelineHandler: { channel, head in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = EngineIOWebSocketHandler(
                            server: server, eventLoop: channel.eventLoop,
                            maxMessageBytes: server.configuration.maxPayload)
                        try channel.pipeline.syncOperations.addHandler(handler)
                        let query = URI(head.uri).queryParameters
                        handler.attach(
                            sid: query["sid"].map(String.init),
                            authorizationHeader: head.headers["Authorization"].first)
                        return UpgradeResult.webSocket
                    }
                }
            )
            let upgrades = NIOTypedHTTPServerUpgradeConfiguration<UpgradeResult>(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let operations = channel.pipeline.syncOperations
                        try operations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try operations.addHandlers(http1.additionalChannelHandlers())
                        try operations.addHandler(
                            HTTPConnectionStateHandler(
                                idleTimeout: http1.idleTimeout.map { .nanoseconds($0.nanoseconds) }, logger: logger))
                        let asyncChannel = try HTTP1Channel.Value(
                            wrappingChannelSynchronously: channel,
                            configuration: .init(isOutboundHalfClosureEnabled: true))
                        guard let refused = refusal.value else { return .notUpgraded(asyncChannel) }
                        return .failedUpgrade(asyncChannel, refused.error)
                    }
                }
            )
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration(upgradeConfiguration: upgrades)
            configuration.enablePipelining = false  // Hummingbird reads requests one at a time
            configuration.enableErrorHandling = false  // Hummingbird answers parse errors
            configuration.enableResponseHeaderValidation = false  // HTTPTypes validated them
            configuration.decoderConfiguration.maxHeaderFieldSize = http1.httpDecoder.maxHeaderFieldSize
            configuration.decoderConfiguration.maxHeaderListSize = http1.httpDecoder.maxHeaderListSize
            configuration.decoderConfiguration.maxHeaderFieldCount = http1.httpDecoder.maxHeaderFieldCount
            let result = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(
                configuration: configuration)
            return Value(upgradeResult: result, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.upgradeResult.get() {
            case .webSocket:
                // The pipeline serves it; the channel stays open after this returns.
                return
            case .notUpgraded(let http):
                await self.handleHTTP(asyncChannel: http, logger: logger)
            case .failedUpgrade(let http, let error):
                try await Self.refuse(http, error)
            }
        } catch let error as ChannelError where error == .inputClosed {
            logger.trace("No upgrade result: the client closed its side first")
        } catch {
            // A connection the HTTP limits cut ends here too; `HTTPLimitedChildChannel` lowers this
            // to debug for those.
            logger.error("Error handling upgrade result", metadata: ["error.type": "\(error)"])
        }
    }

    /// Why a WebSocket request was not upgraded.
    private struct Refusal {
        /// Engine.IO's error for a request on its path; nil for another path.
        var error: SocketIOServer.EngineIOHTTPError?
    }

    /// Answers a WebSocket request that was not upgraded: 400, `Connection: close`, with Engine.IO's
    /// `{"code", "message"}` on its path.
    private static func refuse(_ http: HTTP1Channel.Value, _ error: SocketIOServer.EngineIOHTTPError?) async throws {
        try await http.executeThenClose { _, outbound in
            var headers: HTTPFields = [.connection: "close"]
            var parts: [HTTPResponsePart] = []
            if let error {
                let body = ByteBuffer(string: error.json)
                headers[.contentType] = "application/json"
                headers[.contentLength] = "\(body.readableBytes)"
                parts = [.head(HTTPResponse(status: .badRequest, headerFields: headers)), .body(body), .end(nil)]
            } else {
                headers[.contentLength] = "0"
                parts = [.head(HTTPResponse(status: .badRequest, headerFields: headers)), .end(nil)]
            }
            try await outbound.write(contentsOf: parts)
        }
    }

    /// A WebSocket upgrade request on a connection that served another request: a redirect to the
    /// same URI with `Connection: close`, so the client upgrades on a new connection.
    private static func redirectingUpgrades(
        _ responder: @escaping HTTPChannelHandler.Responder
    ) -> HTTPChannelHandler.Responder {
        { request, writer, channel in
            guard request.headers[.upgrade]?.lowercased() == "websocket" else {
                try await responder(request, writer, channel)
                return
            }
            var location = request.uri.path
            if let query = request.uri.query { location += "?\(query)" }
            let response = HTTPResponse(
                status: .temporaryRedirect, headerFields: [.connection: "close", .location: location])
            try await writer.writeResponse(response)
            throw UpgradeOnUsedConnection()
        }
    }

    /// Ends the connection after the redirect.
    private struct UpgradeOnUsedConnection: Error {}
}

extension SocketIOServer {
    /// An HTTP/1 server for the service's routes (Hummingbird's router, the long-polling routes of
    /// ``registerRoutes(on:)`` among them) with this server's WebSocket upgrade, every connection
    /// under `limits` until it is upgraded.
    public func httpServer(limits: HTTPLimits) -> HTTPServerBuilder {
        let http1 = HTTP1Channel.Configuration(httpDecoderConfiguration: .init(limits: limits))
        return HTTPServerBuilder { responder in
            HTTPLimitedChildChannel(
                base: SocketIOHTTPChannel(responder: responder, server: self, http1: http1), limits: limits)
        }
    }

    /// Whether a WebSocket request for `uri` is upgraded: the Engine.IO path, `EIO=4`,
    /// `transport=websocket`, and for a `sid` a polling session that may upgrade now. Anything
    /// else is answered by the HTTP routes (400 with Engine.IO's error code).
    func acceptsWebSocket(uri: String) -> Bool {
        let uri = URI(uri)
        guard Self.trimmedPath(uri.path) == Self.trimmedPath(self.configuration.path) else { return false }
        let query = uri.queryParameters
        guard query["EIO"].map(String.init) == "4", query["transport"].map(String.init) == "websocket" else {
            return false
        }
        guard let sid = query["sid"].map(String.init) else { return true }
        return self.socket(engineID: sid)?.acceptsUpgrade ?? false
    }

    /// Engine.IO's answer to a WebSocket request for `uri` that is not upgraded (as the polling
    /// route answers it: an unknown `sid` is code 1, a session that cannot upgrade code 3); nil
    /// when `uri` is not the Engine.IO path.
    func webSocketRefusal(uri: String) -> EngineIOHTTPError? {
        let uri = URI(uri)
        guard Self.trimmedPath(uri.path) == Self.trimmedPath(self.configuration.path) else { return nil }
        return Self.checkPolling(uri.queryParameters) { self.socket(engineID: $0) != nil } ?? .badRequest
    }

    private static func trimmedPath(_ path: String) -> Substring {
        var path = Substring(path)
        while path.count > 1, path.hasSuffix("/") { path = path.dropLast() }
        return path
    }
}
