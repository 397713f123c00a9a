import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import HTTPRequestClient

/// The one-request client against a peer on loopback that answers, closes, or stays silent.
@Suite struct HTTPRequestClientTests {
    /// The error of a `GET /`, which must fail with an `HTTPRequestError`.
    static func failure(_ client: HTTPRequestClient) async -> HTTPRequestError? {
        await #expect(throws: HTTPRequestError.self) { try await client.send(.GET, path: "/") }
    }

    static func client(_ port: Int, timeout: Duration = .seconds(5), bodyLimit: Int = 1 << 10) -> HTTPRequestClient {
        HTTPRequestClient(endpoint: .init(host: "127.0.0.1", port: port), timeout: timeout, bodyLimit: bodyLimit)
    }

    @Test func anAnswerGivesItsStatusAndBodyAndTheRequestCarriesHeadersAndBody() async throws {
        let peer = try await Peer.start(.answer(status: .created, body: Array("made it".utf8)))
        defer { peer.stop() }
        let client = Self.client(peer.port)
        let response = try await client.send(
            .POST, path: "/auth/info?x=1",
            headers: ["Content-Type": "application/json", "Authorization": "Basic Z3Vlc3Q6Z3Vlc3Q="],
            body: Array(#"{"a":1}"#.utf8))
        #expect(response.status == 201)
        #expect(response.body == Array("made it".utf8))
        let request = try #require(peer.requests.first)
        #expect(request.head.method == .POST)
        #expect(request.head.uri == "/auth/info?x=1")
        #expect(request.head.headers["Host"] == ["127.0.0.1:\(peer.port)"])
        #expect(request.head.headers["Connection"] == ["close"])
        #expect(request.head.headers["Content-Type"] == ["application/json"])
        #expect(request.head.headers["Authorization"] == ["Basic Z3Vlc3Q6Z3Vlc3Q="])
        #expect(request.head.headers["Content-Length"] == ["7"])
        #expect(request.body == Array(#"{"a":1}"#.utf8))
    }

    @Test func aGetHasNoBodyAndAnErrorStatusIsAnAnswerNotAFailure() async throws {
        let peer = try await Peer.start(.answer(status: .notFound, body: Array("no such queue".utf8)))
        defer { peer.stop() }
        let client = Self.client(peer.port)
        let response = try await client.send(.GET, path: "/api/queues/%2F/q")
        #expect(response.status == 404)
        #expect(response.body == Array("no such queue".utf8))
        let request = try #require(peer.requests.first)
        #expect(request.head.method == .GET)
        #expect(request.head.headers["Content-Length"].isEmpty)
        #expect(request.body.isEmpty)
    }

    @Test func aPeerThatClosesWithoutAnsweringIsConnectionClosed() async throws {
        let peer = try await Peer.start(.close)
        defer { peer.stop() }
        let client = Self.client(peer.port)
        let error = await Self.failure(client)
        #expect(error?.kind == .connectionClosed)
        #expect(error?.message == "connection closed before the answer")
    }

    @Test func aPeerThatNeverAnswersIsATimeout() async throws {
        let peer = try await Peer.start(.silent)
        defer { peer.stop() }
        // Long enough that connecting to a loopback peer never hits it, even on a loaded machine.
        let client = Self.client(peer.port, timeout: .seconds(2))
        let error = await Self.failure(client)
        #expect(error?.kind == .timeout)
        #expect(error?.message == "no answer within the timeout")
        #expect(peer.requests.count == 1, "the request reached the peer")
    }

    @Test func aPeerThatAnswersSomethingElseThanHTTPIsConnectionClosedWithTheParseError() async throws {
        let peer = try await Peer.start(.garbage)
        defer { peer.stop() }
        let error = await Self.failure(Self.client(peer.port))
        #expect(error?.kind == .connectionClosed)
        #expect(error?.underlying is HTTPParserError)
    }

    /// Nothing listens: the connection is refused, and the client fails instead of leaving its
    /// answer pending (NIO reports a leaked promise in debug builds).
    @Test func aClosedPortIsConnectionFailed() async throws {
        let closed = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(closed.localAddress?.port)
        try await closed.close()
        let client = Self.client(port)
        let error = await Self.failure(client)
        #expect(error?.kind == .connectionFailed)
        #expect(error?.underlying != nil)
    }

    @Test func aBodyOverTheLimitFailsAndOneAtTheLimitIsKept() async throws {
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 64)
        let peer = try await Peer.start(.answer(status: .ok, body: body))
        defer { peer.stop() }
        let tight = Self.client(peer.port, bodyLimit: 63)
        let error = await Self.failure(tight)
        #expect(error?.kind == .bodyTooLarge)
        let exact = Self.client(peer.port, bodyLimit: 64)
        #expect(try await exact.send(.GET, path: "/").body == body)
    }

    @Test func theHostHeaderLeavesOutTheSchemesDefaultPort() {
        #expect(HTTPRequestClient.Endpoint(host: "auth").port == 80)
        #expect(HTTPRequestClient.Endpoint(host: "auth").hostHeader == "auth")
        #expect(HTTPRequestClient.Endpoint(tls: true, host: "auth").port == 443)
        #expect(HTTPRequestClient.Endpoint(tls: true, host: "auth").hostHeader == "auth")
        #expect(HTTPRequestClient.Endpoint(tls: true, host: "auth", port: 80).hostHeader == "auth:80")
        #expect(HTTPRequestClient.Endpoint(host: "::1", port: 8080).hostHeader == "[::1]:8080")
    }
}

/// A loopback HTTP/1.1 server that records each request and then acts as told.
final class Peer: Sendable {
    enum Behaviour: Sendable {
        case answer(status: HTTPResponseStatus, body: [UInt8])
        /// Closes the connection once the request is in.
        case close
        /// Reads the request and never answers.
        case silent
        /// Answers bytes that are not HTTP as soon as the connection opens.
        case garbage
    }

    struct Request: Sendable {
        var head: HTTPRequestHead
        var body: [UInt8]
    }

    let channel: any Channel
    private let recorded: NIOLockedValueBox<[Request]>

    var port: Int { self.channel.localAddress?.port ?? 0 }
    var requests: [Request] { self.recorded.withLockedValue { $0 } }

    private init(channel: any Channel, recorded: NIOLockedValueBox<[Request]>) {
        self.channel = channel
        self.recorded = recorded
    }

    static func start(_ behaviour: Behaviour) async throws -> Peer {
        let recorded = NIOLockedValueBox<[Request]>([])
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if case .garbage = behaviour {
                        try channel.pipeline.syncOperations.addHandler(GarbageAnswer())
                        return
                    }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(
                        PeerHandler(behaviour: behaviour, recorded: recorded))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return Peer(channel: channel, recorded: recorded)
    }

    func stop() {
        self.channel.close(promise: nil)
    }
}

private final class PeerHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let behaviour: Peer.Behaviour
    let recorded: NIOLockedValueBox<[Peer.Request]>
    var head: HTTPRequestHead?
    var body: [UInt8] = []

    init(behaviour: Peer.Behaviour, recorded: NIOLockedValueBox<[Peer.Request]>) {
        self.behaviour = behaviour
        self.recorded = recorded
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body(let part):
            self.body += part.readableBytesView
        case .end:
            guard let head = self.head else { return }
            self.recorded.withLockedValue { $0.append(.init(head: head, body: self.body)) }
            switch self.behaviour {
            case .answer(let status, let body):
                var headers = HTTPHeaders([("Content-Length", String(body.count))])
                headers.add(name: "Content-Type", value: "text/plain")
                context.write(
                    self.wrapOutboundOut(.head(.init(version: .http1_1, status: status, headers: headers))),
                    promise: nil)
                // In two parts, so the client's limit sees more than one.
                let half = body.count / 2
                context.write(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body[..<half])))), promise: nil)
                context.write(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body[half...])))), promise: nil)
                let channel = context.channel
                context.writeAndFlush(self.wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
            case .close:
                context.close(promise: nil)
            case .silent, .garbage:
                break
            }
        }
    }
}

private final class GarbageAnswer: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(string: "SMTP? 220 hello\r\n\r\n")), promise: nil)
    }
}
