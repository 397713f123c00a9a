import AMQPClient
import AMQPProtocol
import Foundation
import Messaging
import Testing

/// Wire compatibility with an independent client: Python pika playing a NestJS producer and consumer.
@Suite("NestJS envelope interop with pika")
struct PikaInteropTests {
    static var python: String { TestEnvironment.repositoryRoot.appendingPathComponent(".venv/bin/python").path }
    static let peer = "Tests/IntegrationTests/Peers/pika_peer.py"

    @Test func eventsPublishedLikeNestJSEmitAreConsumed() async throws {
        try await BrokerLock.shared {
            let received = Recorder<(NotificationPayload, MessageContext)>()
            let queue = TestEnvironment.uniqueName("test.pika-in")
            let handler = MessageHandler(pattern: "create_notification", payload: NotificationPayload.self) {
                payload,
                context in
                await received.append((payload, context))
            }
            try await MessagingHarness.run(queue: queue, handlers: [handler]) { _ in
                let data =
                    #"{"user_id":"665f1c2e9b1d4a0012345678","type":"session_created","title":"New Login Detected","message":"You just signed in"}"#
                // pika also re-declares the queue as NestJS does ({durable: true}): a 406 here would
                // mean our declaration broke the original producers.
                try await TestEnvironment.run([
                    Self.python, Self.peer, "publish-nest", queue, "create_notification", data,
                ])
                try await eventually("the handler ran") { await received.count == 1 }
                let (payload, context) = try #require(await received.values.first)
                #expect(payload.title == "New Login Detected")
                #expect(payload.type == "session_created")
                #expect(context.messageID == nil)
                #expect(context.properties.deliveryMode == nil)
            }
        }
    }

    @Test func eventsWePublishReadAsNestJSEnvelopes() async throws {
        try await BrokerLock.shared {
            let queue = TestEnvironment.uniqueName("test.pika-out")
            let client = try MessagingHarness.makeClient()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await client.run() }
                try await client.declare([.queue(queue)])
                let payload = NotificationPayload(
                    userID: "665f1c2e9b1d4a0012345678", type: "new_follow", title: "t", message: "m")
                try await MessagePublisher(client: client).emit(
                    pattern: "create_notification", data: payload, queue: queue, messageID: "out-1")
                let output = try await TestEnvironment.run([Self.python, Self.peer, "get", queue])
                let message = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
                #expect(message["keys"] as? [String] == ["pattern", "data"])
                #expect(message["delivery_mode"] as? Int == 2)
                #expect(message["content_type"] as? String == "application/json")
                #expect(message["message_id"] as? String == "out-1")
                #expect((message["timestamp"] as? Int ?? 0) > 1_700_000_000)
                let body = try #require(message["body"] as? String)
                let envelope = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
                #expect(envelope["pattern"] as? String == "create_notification")
                #expect(envelope["id"] == nil)
                #expect((envelope["data"] as? [String: Any])?["user_id"] as? String == "665f1c2e9b1d4a0012345678")
                try await client.withChannel { try await $0.queueDelete(queue) }
                client.beginShutdown()
                try await group.waitForAll()
            }
        }
    }
}
