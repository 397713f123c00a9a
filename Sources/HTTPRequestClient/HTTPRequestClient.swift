import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Sends one HTTP/1.1 request over a new connection (`Connection: close`) and collects the
/// answer's status and body: for the few calls a flow makes to another service's HTTP API (the
/// RabbitMQ management API, the auth service), where a pool or keep-alive is not worth having.
///
/// The connection is bounded by `timeout`, and so is the answer once connected. Every way it can
/// fail is an ``HTTPRequestError``; the connection is always closed before `send` returns.
public struct HTTPRequestClient: Sendable {
    /// Where requests go.
    public struct Endpoint: Sendable, Equatable {
        /// `https`: the connection is TLS (the client's `tlsConfiguration`), checking `host`.
        public var tls: Bool
        /// A name or an address; also the name the TLS certificate must carry.
        public var host: String
        public var port: Int

        /// An endpoint; `port` defaults to 443 with TLS, 80 without.
        public init(tls: Bool = false, host: String, port: Int? = nil) {
            self.tls = tls
            self.host = host
            self.port = port ?? (tls ? 443 : 80)
        }

        /// The `Host` header: the host, with the port when it is not the scheme's default.
        var hostHeader: String {
            let host = self.host.contains(":") ? "[\(self.host)]" : self.host
            return self.port == (self.tls ? 443 : 80) ? host : "\(host):\(self.port)"
        }
    }

    /// What the peer answered.
    public struct Response: Sendable, Equatable {
        /// The status code, e.g. 200.
        public var status: Int
        /// The whole body, at most the client's `bodyLimit` bytes.
        public var body: [UInt8]
    }

    /// Where every request of this client goes.
    public let endpoint: Endpoint
    /// Bounds the connection set-up, then the answer.
    public let timeout: Duration
    /// The largest answer body accepted; a larger one fails with `bodyTooLarge`.
    public let bodyLimit: Int
    /// The TLS settings of an `https` endpoint: by default the system's trust roots.
    public let tlsConfiguration: TLSConfiguration
    let group: any EventLoopGroup
    /// The TLS context of an `https` endpoint, made once (it loads the trust roots): a failure
    /// to make it fails each request as a connection failure.
    let sslContext: Result<NIOSSLContext, any Error>?

    /// A client for `endpoint`; nothing connects until ``send(_:path:headers:body:)``.
    public init(
        endpoint: Endpoint, timeout: Duration, bodyLimit: Int,
        tlsConfiguration: TLSConfiguration = .makeClientConfiguration(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.endpoint = endpoint
        self.timeout = timeout
        self.bodyLimit = bodyLimit
        self.tlsConfiguration = tlsConfiguration
        self.group = group
        self.sslContext = endpoint.tls ? Result { try NIOSSLContext(configuration: tlsConfiguration) } : nil
    }

    /// Sends `method path` with `headers` (the client adds `Host`, `Connection: close` and, with a
    /// body, `Content-Length`) and returns the answer, whatever its status. Throws an
    /// ``HTTPRequestError`` when it cannot connect, the connection closes or fails first, no
    /// answer comes within the timeout, or the body is over `bodyLimit`.
    public func send(
        _ method: HTTPMethod, path: String, headers: HTTPHeaders = [:], body: [UInt8]? = nil
    ) async throws -> Response {
        let endpoint = self.endpoint
        let loop = self.group.next()
        let promise = loop.makePromise(of: Response.self)
        let bodyLimit = self.bodyLimit
        let sslContext = self.sslContext
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .connectTimeout(TimeAmount(self.timeout))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let sslContext {
                            try channel.pipeline.syncOperations.addHandler(
                                try NIOSSLClientHandler(context: sslContext.get(), serverHostname: endpoint.host))
                        }
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(
                            ResponseCollector(promise: promise, bodyLimit: bodyLimit))
                    }
                }
                .connect(host: endpoint.host, port: endpoint.port).get()
        } catch {
            // No connection, no answer: the promise must not be left pending.
            let failure = HTTPRequestError(
                .connectionFailed, "could not connect to \(endpoint.host):\(endpoint.port)", underlying: error)
            promise.fail(failure)
            throw failure
        }
        let timeout = channel.eventLoop.scheduleTask(in: TimeAmount(self.timeout)) {
            promise.fail(HTTPRequestError(.timeout, "no answer within the timeout"))
            channel.close(promise: nil)
        }
        defer {
            timeout.cancel()
            channel.close(promise: nil)
        }
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
        head.headers.add(name: "Host", value: endpoint.hostHeader)
        head.headers.add(contentsOf: headers)
        if let body { head.headers.add(name: "Content-Length", value: String(body.count)) }
        head.headers.add(name: "Connection", value: "close")
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body {
            channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil)
        }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            promise.fail(CancellationError())
            channel.close(promise: nil)
        }
    }
}

/// Collects one answer and completes the promise at its end; fails it when the body goes over the
/// limit, or the connection fails or closes first. Completing an already completed promise does
/// nothing, so the first outcome wins.
private final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<HTTPRequestClient.Response>
    private let bodyLimit: Int
    private var status = 0
    private var body = ByteBuffer()

    init(promise: EventLoopPromise<HTTPRequestClient.Response>, bodyLimit: Int) {
        self.promise = promise
        self.bodyLimit = bodyLimit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.status = Int(head.status.code)
        case .body(var part):
            guard self.body.readableBytes + part.readableBytes <= self.bodyLimit else {
                self.promise.fail(HTTPRequestError(.bodyTooLarge, "answer body over \(self.bodyLimit) bytes"))
                context.close(promise: nil)
                return
            }
            self.body.writeBuffer(&part)
        case .end:
            self.promise.succeed(.init(status: self.status, body: Array(self.body.readableBytesView)))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.promise.fail(HTTPRequestError(.connectionClosed, "connection closed before the answer"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case NIOSSLError.handshakeFailed = error {
            self.promise.fail(HTTPRequestError(.connectionFailed, "TLS handshake failed", underlying: error))
        } else {
            self.promise.fail(HTTPRequestError(.connectionClosed, "connection failed", underlying: error))
        }
        context.close(promise: nil)
    }
}
