import AMQPClient
import Foundation
import NIOCore
import Testing

@testable import Console

/// The console's management API reads against the stack's RabbitMQ (`RABBITMQ_MANAGEMENT_URI`),
/// on a queue of the test's own.
@Suite struct ManagementAPIIntegrationTests {
    static var uri: String {
        ProcessInfo.processInfo.environment["RABBITMQ_MANAGEMENT_URI"] ?? "http://guest:guest@127.0.0.1:15672"
    }

    @Test func aQueuesReadyMessagesShowAndAnUnknownQueueOrWrongPasswordIsAnHTTPError() async throws {
        try await BrokerLock.shared {
            let queue = TestEnvironment.uniqueName("test.management")
            let connection = try await AMQPConnection.connect(
                configuration: try AMQPConnectionConfiguration(uri: TestEnvironment.rabbitMQURI))
            let channel = try await connection.openChannel()
            try await channel.queueDeclare(queue, durable: false)
            try await channel.confirmSelect()
            for body in ["one", "two"] {
                try await channel.publish(ByteBuffer(string: body), routingKey: queue)
            }
            let api = try #require(ManagementAPI(uri: Self.uri))
            // The API's figures follow the broker's statistics interval (5 s by default).
            try await eventually("the management API counts the two messages") {
                let figures = try await api.queue(queue)
                return figures.ready == 2 && figures.unacknowledged == 0 && figures.consumers == 0
            }
            let unknown = queue + ".absent"
            let missing = await #expect(throws: ManagementAPIError.self) { try await api.queue(unknown) }
            #expect(missing?.message == "HTTP 404 for \(unknown)")
            let endpoint = try #require(ManagementAPI.parse(Self.uri, vhost: "/"))
            let wrong = try #require(
                ManagementAPI(uri: "http://guest:not-the-password@\(endpoint.host):\(endpoint.port)"))
            let refused = await #expect(throws: ManagementAPIError.self) { try await wrong.queue(queue) }
            #expect(refused?.message == "HTTP 401 for \(queue)")
            _ = try await channel.queueDelete(queue)
            await connection.close()
        }
    }
}
