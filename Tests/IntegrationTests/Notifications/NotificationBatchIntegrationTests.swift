import AMQPClient
import Crypto
import Foundation
import Messaging
import MongoStore
import NIOCore
import NotificationService
import SocketIO
import Testing

/// The batched pipeline against the stack: one `insertMany` per batch with each message settled
/// alone, deliveries and client acks recorded in batches, redeliveries of NestJS messages (no
/// `message_id`) matched against what their first delivery stored.
@Suite(.serialized)
struct NotificationBatchIntegrationTests {
    static func body(_ userID: String, title: String) -> String {
        #"{"pattern":"create_notification","data":{"user_id":"\#(userID)","type":"info","title":"\#(title)","message":"m"}}"#
    }

    static func hash(_ body: String) -> String {
        SHA256.hash(data: Data(body.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func valid(_ userID: String, _ title: String) throws -> CreateNotificationRequest.Valid {
        try CreateNotificationRequest(userID: userID, type: "info", title: title, message: "m").validated()
    }

    /// Ready and unacknowledged both zero: after shutdown, anything left unacked is back in the queue.
    @Sendable static func nothingLeftInTheQueue(_ queue: String, _ collection: MongoCollection) async throws {
        let depth = try await MessagingHarness.depth(of: queue)
        #expect(depth == 0)
    }

    @Test func aBatchWithADuplicateMessageIDInTheMiddleStoresItOnceAndTheRestStand() async throws {
        try await NotificationHarness.run { harness in
            let user = NotificationHarness.newUserID()
            var batch: [NotificationStore.NewNotification] = []
            for index in 0..<10 {
                batch.append(
                    .init(
                        request: try Self.valid(user, "n\(index)"),
                        messageID: index == 4 || index == 5 ? "dup-\(user)" : "id-\(user)-\(index)",
                        bodyHash: "h\(index)", mayBeStored: false))
            }
            let outcomes = try await harness.store.create(batch)
            let stored = try outcomes.map { try $0.get() }
            #expect(stored.filter(\.created).count == 9)
            #expect(stored[4].created && !stored[5].created)
            #expect(stored[5].notification.id == stored[4].notification.id)
            #expect(try await harness.collection.countDocuments([:]) == 9)
            #expect(
                try await harness.collection.countDocuments(
                    MongoFilter.eq("message_id", .string("dup-\(user)")).document) == 1)
        }
    }

    @Test func invalidAndDuplicateMessagesAmongWaitingOnesAreSettledAloneAndNothingStaysUnacked() async throws {
        let user = NotificationHarness.newUserID()
        var bodies = (0..<30).map { Self.body(user, title: "n\($0)") }
        bodies[15] =
            #"{"pattern":"create_notification","data":{"user_id":"nope","type":"info","title":"t","message":"m"}}"#
        try await BrokerLock.shared {
            try await NotificationHarness.run(waiting: bodies, afterShutdown: Self.nothingLeftInTheQueue) { harness in
                try await eventually("29 stored and one dead-lettered") {
                    let stored = try await harness.collection.countDocuments([:])
                    let deadLettered = try await MessagingHarness.depth(of: "\(harness.queue).dlq")
                    return stored == 29 && deadLettered == 1
                }
                let titles = try await harness.collection.find(MongoFilter.all).compactMap { document -> String? in
                    guard case .string(let title)? = document["title"] else { return nil }
                    return title
                }
                #expect(Set(titles) == Set((0..<30).filter { $0 != 15 }.map { "n\($0)" }))
            }
        }
    }

    @Test func deliveriesAndClientAcksOfABatchAreRecorded() async throws {
        try await BrokerLock.shared {
            try await NotificationHarness.run { harness in
                let user = NotificationHarness.newUserID()
                async let report = NotificationFlowIntegrationTests.peer(
                    harness, userID: user, scenario: "collect:12", stay: "1")
                try await eventually("the user is connected") { !harness.server.localSockets(ofUser: user).isEmpty }
                try await NotificationHarness.publish(
                    (0..<12).map { Self.body(user, title: "n\($0)") }, to: harness.queue)
                let received = SocketIOGatewayIntegrationTests.events(try await report, named: "notification_received")
                #expect(received.count == 12)
                try await eventually("all 12 delivered and acknowledged in the store") {
                    let documents = try await harness.collection.find(MongoFilter.all)
                    return documents.count == 12
                        && documents.allSatisfy {
                            $0["delivered"] == .bool(true) && $0["acknowledged_at"]?.dateValue != nil
                                && $0["message_hash"] == nil
                        }
                }
            }
        }
    }

    /// A crash between storing and acking, without a `message_id`: the broker redelivers the
    /// message; it finds what its first delivery stored. An identical emit delivered for the first
    /// time is a second notification all the same.
    @Test func aRedeliveredNestJSMessageContinuesWithWhatItsFirstDeliveryStored() async throws {
        let user = NotificationHarness.newUserID()
        let body = Self.body(user, title: "same")
        try await BrokerLock.shared {
            try await NotificationHarness.run(
                beforeConsuming: { queue, store in
                    try await NotificationHarness.publish([body], to: queue)
                    // A first delivery that stored its notification, then died before the ack.
                    let connection = try await AMQPConnection.connect(
                        configuration: try AMQPConnectionConfiguration(uri: TestEnvironment.rabbitMQURI))
                    let channel = try await connection.openChannel()
                    let first = try #require(try await channel.get(queue: queue))
                    #expect(!first.delivery.redelivered)
                    _ = try await store.create([
                        .init(
                            request: try Self.valid(user, "same"), messageID: nil, bodyHash: Self.hash(body),
                            mayBeStored: false)
                    ])
                    await connection.close()
                    // The same event emitted again, for real.
                    try await NotificationHarness.publish([body], to: queue)
                },
                afterShutdown: { queue, collection in
                    // Both messages handled and acknowledged, and only one document for the two.
                    let depth = try await MessagingHarness.depth(of: queue)
                    let stored = try await collection.countDocuments([:])
                    #expect(depth == 0)
                    #expect(stored == 2)
                }
            ) { harness in
                try await eventually("both messages are handled") {
                    let depth = try await MessagingHarness.depth(of: harness.queue)
                    let stored = try await harness.collection.countDocuments([:])
                    return depth == 0 && stored >= 2
                }
            }
        }
    }

    /// A client ack that arrives after the first 100 ms is still written with its delivery, in the
    /// same update (its `acknowledged_at` is the delivery's `delivered_at`); a push its client
    /// never acks is recorded delivered alone once it waited. Both forget their body hash.
    @Test func aLateAckIsRecordedWithItsDeliveryAndAnUnackedPushIsRecordedAlone() async throws {
        // The ack comes 300 ms after the push; a 5 s wait keeps it in time on a loaded machine.
        try await NotificationHarness.run(ackWait: .seconds(5)) { harness in
            let user = NotificationHarness.newUserID()
            let stored = try await harness.store.create([
                .init(request: try Self.valid(user, "acked late"), messageID: nil, bodyHash: "h1", mayBeStored: false),
                .init(request: try Self.valid(user, "never acked"), messageID: nil, bodyHash: "h2", mayBeStored: false),
            ]).map { try $0.get().notification }
            let emits = stored.map { notification in
                RoomEmit(
                    room: NotificationGateway.room(ofUser: user), event: NotificationDelivery.receivedEvent,
                    arguments: [NotificationDelivery.payload(notification)], wantsAck: true,
                    context: NotificationDelivery.context(of: notification))
            }
            for emit in emits {
                await harness.delivery.roomEmitDelivered(emit, sockets: 1)
            }
            try await Task.sleep(for: .milliseconds(300))
            await harness.delivery.roomEmitAcknowledged(emits[0], userID: user, reply: [])
            try await eventually("both recorded delivered") {
                try await harness.collection.find(MongoFilter.all).allSatisfy { $0["delivered"] == .bool(true) }
            }
            let documents = try await harness.collection.find(MongoFilter.all)
            let late = try #require(documents.first { $0["title"] == .string("acked late") })
            let unacked = try #require(documents.first { $0["title"] == .string("never acked") })
            #expect(late["acknowledged_at"]?.dateValue != nil)
            #expect(late["acknowledged_at"] == late["delivered_at"])
            #expect(unacked["acknowledged_at"] == nil)
            #expect(unacked["delivered_at"]?.dateValue != nil)
            #expect(documents.allSatisfy { $0["message_hash"] == nil })
        }
    }
}
