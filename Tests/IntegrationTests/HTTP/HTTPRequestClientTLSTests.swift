import Foundation
import HTTPRequestClient
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Testing

/// `https` endpoints of `HTTPRequestClient` (the auth service may be one), against a loopback
/// server with the stack's certificate for `localhost` (signed by the stack's own CA).
@Suite struct HTTPRequestClientTLSTests {
    static func stackFile(_ name: String) -> String {
        TestEnvironment.repositoryRoot.appendingPathComponent(".stack/rabbitmq/tls/\(name)").path
    }

    static func withServer(_ body: (Int) async throws -> Void) async throws {
        let certificates = try NIOSSLCertificate.fromPEMFile(Self.stackFile("server.pem"))
        let key = try NIOSSLPrivateKey(file: Self.stackFile("server.key"), format: .pem)
        let context = try NIOSSLContext(
            configuration: .makeServerConfiguration(
                certificateChain: certificates.map { .certificate($0) }, privateKey: .privateKey(key)))
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(FixedAnswer())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { server.close(promise: nil) }
        try await body(try #require(server.localAddress?.port))
    }

    @Test func anHTTPSAnswerArrivesWhenTheCertificateIsTrusted() async throws {
        try await Self.withServer { port in
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(Self.stackFile("ca.pem"))
            let client = HTTPRequestClient(
                endpoint: .init(tls: true, host: "localhost", port: port), timeout: .seconds(5), bodyLimit: 1 << 10,
                tlsConfiguration: tls)
            let response = try await client.send(.POST, path: "/auth/info/by-access-token", body: Array("{}".utf8))
            #expect(response.status == 200)
            #expect(response.body == Array("over tls, POST /auth/info/by-access-token".utf8))
        }
    }

    @Test func anUntrustedCertificateIsConnectionFailed() async throws {
        try await Self.withServer { port in
            // The system's trust roots do not hold the stack's private CA.
            let client = HTTPRequestClient(
                endpoint: .init(tls: true, host: "localhost", port: port), timeout: .seconds(5), bodyLimit: 1 << 10)
            let error = await #expect(throws: HTTPRequestError.self) { try await client.send(.GET, path: "/") }
            #expect(error?.kind == .connectionFailed)
            #expect(error?.message == "TLS handshake failed")
        }
    }
}

/// Answers every request with 200 and its method and path.
private final class FixedAnswer: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private var line = ""

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.line = "\(head.method) \(head.uri)"
        case .body:
            break
        case .end:
            let body = ByteBuffer(string: "over tls, \(self.line)")
            let head = HTTPResponseHead(
                version: .http1_1, status: .ok, headers: ["Content-Length": String(body.readableBytes)])
            context.write(self.wrapOutboundOut(.head(head)), promise: nil)
            context.write(self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
