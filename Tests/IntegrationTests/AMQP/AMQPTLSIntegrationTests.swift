import AMQPClient
import Foundation
import NIOCore
import NIOSSL
import Testing

/// `amqps://` against the stack's TLS listener (certificate from the stack's own CA).
@Suite("AMQP over TLS against RabbitMQ")
struct AMQPTLSIntegrationTests {
    static var uri: String {
        ProcessInfo.processInfo.environment["RABBITMQ_TLS_URI"] ?? "amqps://guest:guest@localhost:5671"
    }
    static var caPath: String {
        ProcessInfo.processInfo.environment["RABBITMQ_TLS_CA"]
            ?? TestEnvironment.repositoryRoot.appendingPathComponent(".stack/rabbitmq/tls/ca.pem").path
    }

    @Test func amqpsConnectsWhenTheCertificateIsTrusted() async throws {
        try await BrokerLock.shared {
            var configuration = try AMQPConnectionConfiguration(uri: Self.uri)
            #expect(configuration.port == 5671)
            var tls = try #require(configuration.tls)
            tls.trustRoots = .file(Self.caPath)
            configuration.tls = tls
            let connection = try await AMQPConnection.connect(configuration: configuration)
            let channel = try await connection.openChannel()
            let queue = TestEnvironment.uniqueName("test.tls")
            try await channel.queueDeclare(queue, durable: false, autoDelete: true)
            try await channel.confirmSelect()
            try await channel.publish(ByteBuffer(string: "over tls"), routingKey: queue)
            let result = try #require(try await channel.get(queue: queue, noAck: true))
            #expect(String(buffer: result.delivery.body) == "over tls")
            await connection.close()
        }
    }

    @Test func amqpsRefusesAnUntrustedCertificate() async throws {
        try await BrokerLock.shared {
            // Default verification with the system roots: the stack's private CA is not among them.
            let configuration = try AMQPConnectionConfiguration(uri: Self.uri)
            let error = await #expect(throws: AMQPClientError.self) {
                _ = try await AMQPConnection.connect(configuration: configuration)
            }
            #expect(error?.code == .connectionFailed)
            #expect(error?.message == "TLS handshake failed")
        }
    }
}
