import Foundation
import MongoStore
import SocketIO
import Testing

@testable import NotificationService

/// The reasons an invalid `create_notification` is dead-lettered with, field by field.
@Suite struct NotificationValidationTests {
    static let user = "665f1c2e9b1d4a0012345678"

    static func reason(_ request: CreateNotificationRequest) -> String? {
        do {
            _ = try request.validated()
            return nil
        } catch {
            return error.reason
        }
    }

    @Test(arguments: [
        (CreateNotificationRequest(userID: nil, type: "t", title: "t", message: "m"), "user_id is required"),
        (
            CreateNotificationRequest(userID: "665f1c2e9b1d4a001234567", type: "t", title: "t", message: "m"),
            "user_id must be a 24-character hex ObjectId"
        ),
        (
            CreateNotificationRequest(userID: "zz5f1c2e9b1d4a0012345678", type: "t", title: "t", message: "m"),
            "user_id must be a 24-character hex ObjectId"
        ),
        (CreateNotificationRequest(userID: user, type: nil, title: "t", message: "m"), "type is required"),
        (CreateNotificationRequest(userID: user, type: " \n", title: "t", message: "m"), "type must not be empty"),
        (
            CreateNotificationRequest(userID: user, type: String(repeating: "t", count: 65), title: "t", message: "m"),
            "type is longer than 64 characters"
        ),
        (CreateNotificationRequest(userID: user, type: "t", title: "", message: "m"), "title must not be empty"),
        (
            CreateNotificationRequest(userID: user, type: "t", title: String(repeating: "é", count: 201), message: "m"),
            "title is longer than 200 characters"
        ),
        (CreateNotificationRequest(userID: user, type: "t", title: "t", message: nil), "message is required"),
        (
            CreateNotificationRequest(
                userID: user, type: "t", title: "t", message: String(repeating: "m", count: 5_001)),
            "message is longer than 5000 characters"
        ),
    ])
    func invalidRequestsNameTheirFirstProblem(request: CreateNotificationRequest, reason: String) {
        #expect(Self.reason(request) == reason)
    }

    @Test func theLimitsThemselvesAreValid() throws {
        let valid = try CreateNotificationRequest(
            userID: Self.user, type: String(repeating: "t", count: 64), title: String(repeating: "é", count: 200),
            message: String(repeating: "m", count: 5_000)
        ).validated()
        #expect(valid.userID.hex == Self.user)
        #expect(valid.title.count == 200)
    }

    @Test func theMetricTypeIsBoundedAndUnknownWhenImplausible() {
        let request = { (type: String?) in CreateNotificationRequest(userID: nil, type: type, title: nil, message: nil)
        }
        #expect(NotificationFlow.metricType(request("new_follow")) == "new_follow")
        #expect(NotificationFlow.metricType(request(nil)) == "unknown")
        #expect(NotificationFlow.metricType(request("")) == "unknown")
        #expect(NotificationFlow.metricType(request(String(repeating: "x", count: 65))) == "unknown")
    }
}

/// What a stored notification looks like in MongoDB, over REST and over the socket (COMPAT.md 3).
@Suite struct NotificationShapeTests {
    static let now = Date(timeIntervalSince1970: 1_765_000_000.5)

    static func stored() throws -> (BSONDocument, NotificationService.Notification) {
        let request = try CreateNotificationRequest(
            userID: "665f1c2e9b1d4a0012345678", type: "new_follow", title: "Hi", message: "alice followed you"
        ).validated()
        let document = NotificationStore.document(request, messageID: nil, now: Self.now, hash: "abc")
        let notification: NotificationService.Notification? = .init(document)
        return (document, try #require(notification))
    }

    @Test func theDocumentHasTheOriginalFieldsAndTheBodyHash() throws {
        let (document, _) = try Self.stored()
        #expect(
            document.keys == [
                "_id", "user_id", "type", "title", "message", "delivered", "delivered_at", "read", "read_at",
                "createdAt", "updatedAt", "__v", "message_hash",
            ])
        #expect(document["delivered"] == .bool(false))
        #expect(document["read_at"] == .null)
        #expect(document["__v"] == .int32(0))
        #expect(document["message_id"] == nil)
        #expect(document["message_hash"] == .string("abc"))
    }

    @Test func theSocketFormHasIDAndNoVersionTheRESTFormHasUnderscoreIDAndVersion() throws {
        let (_, notification) = try Self.stored()
        guard case .object(let socket) = notification.socketJSON, case .object(let rest) = notification.restJSON else {
            Issue.record("objects expected")
            return
        }
        #expect(
            socket.map(\.key) == [
                "id", "user_id", "type", "title", "message", "delivered", "delivered_at", "read", "read_at",
                "createdAt", "updatedAt",
            ])
        #expect(rest.map(\.key).first == "_id")
        #expect(rest.map(\.key).last == "__v")
        #expect(notification.socketJSON["createdAt"]?.stringValue == "2025-12-06T05:46:40.500Z")
        #expect(notification.socketJSON["delivered_at"] == .null)
    }

    @Test func thePushEnvelopeNamesTheEventAndTheUser() throws {
        let (_, notification) = try Self.stored()
        let payload = NotificationDelivery.payload(notification)
        #expect(payload["event"]?.stringValue == "notification_received")
        #expect(payload["userId"]?.stringValue == "665f1c2e9b1d4a0012345678")
        #expect(payload["data"]?["id"]?.stringValue == notification.id.hex)
        #expect(payload["timestamp"]?.stringValue?.hasSuffix("Z") == true)
        // The push names its notification in its context, which comes back with its outcomes.
        let emit = RoomEmit(
            room: NotificationGateway.room(ofUser: notification.userID.hex), event: NotificationDelivery.receivedEvent,
            arguments: [payload], context: NotificationDelivery.context(of: notification))
        #expect(NotificationDelivery.notificationID(emit) == notification.id)
        #expect(emit.context["notification_type"] == notification.type)
        #expect(NotificationDelivery.notificationID(RoomEmit(room: nil, event: "x", arguments: [payload])) == nil)
    }
}

/// The recorder's plan for a batch of records: a delivery and its ack in one write.
@Suite struct RecordPlanTests {
    static let ids = (0..<5).map { _ in BSONObjectID.generate() }

    @Test func aDeliveryWithItsAckInTheBatchIsOneWrite() {
        let ids = Self.ids
        let plan = RecordPlan([
            .delivered(ids[0], type: "a"), .delivered(ids[1], type: "b"), .acknowledged(ids[0]),
            .acknowledged(ids[2]), .settled(ids[3]), .delivered(ids[4], type: "a"),
        ])
        #expect(plan.deliveredAndAcknowledged == ["a": [ids[0]]])
        #expect(plan.delivered == ["b": [ids[1]], "a": [ids[4]]])
        #expect(plan.acknowledged == [ids[2]])
        #expect(plan.settled == [ids[3]])
    }

    @Test func repeatedRecordsAreWrittenOnce() {
        let ids = Self.ids
        let plan = RecordPlan([
            .delivered(ids[0], type: "a"), .delivered(ids[0], type: "a"), .acknowledged(ids[1]),
            .acknowledged(ids[1]), .settled(ids[2]), .settled(ids[2]),
        ])
        #expect(plan.delivered == ["a": [ids[0]]])
        #expect(plan.acknowledged == [ids[1]])
        #expect(plan.settled == [ids[2]])
    }

    @Test func anAckBeforeItsDeliveryIsStillMerged() {
        let ids = Self.ids
        let plan = RecordPlan([.acknowledged(ids[0]), .delivered(ids[0], type: "a")])
        #expect(plan.deliveredAndAcknowledged == ["a": [ids[0]]])
        #expect(plan.acknowledged.isEmpty)
        #expect(plan.delivered.isEmpty)
    }
}

/// The recorder's held deliveries: each is written once its client acked it (with the ack), or
/// alone once it waited; rounds are taken once enough is ready or the oldest ready one lingered.
@Suite struct HeldDeliveriesTests {
    static let ids = (0..<6).map { _ in BSONObjectID.generate() }
    static let start = ContinuousClock.now

    static func holding(roundSize: Int = 10) -> HeldDeliveries {
        HeldDeliveries(ackWait: .seconds(1), linger: .milliseconds(100), roundSize: roundSize)
    }

    @Test func anAckedDeliveryIsWrittenWithItsAckOnceTheRoundLingered() {
        let ids = Self.ids
        var held = Self.holding()
        held.add([.delivered(ids[0], type: "a"), .delivered(ids[1], type: "b")], at: Self.start)
        held.add([.acknowledged(ids[1])], at: Self.start + .milliseconds(20))
        #expect(held.takeDue(at: Self.start + .milliseconds(99)).isEmpty)
        let due = held.takeDue(at: Self.start + .milliseconds(100))
        #expect(due == [.delivered(ids[1], type: "b"), .acknowledged(ids[1])])
        #expect(RecordPlan(due).deliveredAndAcknowledged == ["b": [ids[1]]])
        #expect(held.heldCount == 1)
    }

    @Test func aFullRoundIsWrittenAtOnce() {
        let ids = Self.ids
        var held = Self.holding(roundSize: 2)
        held.add([.delivered(ids[0], type: "a"), .delivered(ids[1], type: "a")], at: Self.start)
        held.add([.acknowledged(ids[0])], at: Self.start + .milliseconds(1))
        #expect(held.takeDue(at: Self.start + .milliseconds(1)).isEmpty)
        held.add([.acknowledged(ids[1])], at: Self.start + .milliseconds(2))
        #expect(held.takeDue(at: Self.start + .milliseconds(2)).count == 4)
        #expect(held.isEmpty)
    }

    @Test func aDeliveryWithoutAnAckIsWrittenAloneOnceItWaited() {
        let ids = Self.ids
        var held = Self.holding()
        held.add([.delivered(ids[0], type: "a")], at: Self.start)
        held.add([.delivered(ids[1], type: "a")], at: Self.start + .milliseconds(500))
        #expect(held.takeDue(at: Self.start + .milliseconds(999)).isEmpty)
        #expect(held.takeDue(at: Self.start + .seconds(1)) == [.delivered(ids[0], type: "a")])
        #expect(held.takeDue(at: Self.start + .milliseconds(1_499)).isEmpty)
        #expect(held.takeDue(at: Self.start + .milliseconds(1_500)) == [.delivered(ids[1], type: "a")])
        #expect(held.isEmpty)
    }

    @Test func acksOfDeliveriesNotHeldAndSettledOnesAreReadyAtOnce() {
        let ids = Self.ids
        var held = Self.holding()
        held.add([.delivered(ids[0], type: "a"), .acknowledged(ids[2]), .settled(ids[3])], at: Self.start)
        #expect(held.takeDue(at: Self.start + .milliseconds(50)).isEmpty)
        #expect(held.takeDue(at: Self.start + .milliseconds(100)) == [.acknowledged(ids[2]), .settled(ids[3])])
        #expect(held.heldCount == 1)
    }

    @Test func anAckTakenInWithItsDeliveryMarksIt() {
        let ids = Self.ids
        var held = Self.holding(roundSize: 1)
        held.add(
            [.acknowledged(ids[0]), .delivered(ids[0], type: "a"), .delivered(ids[0], type: "a")], at: Self.start)
        #expect(held.takeDue(at: Self.start) == [.delivered(ids[0], type: "a"), .acknowledged(ids[0])])
        #expect(held.isEmpty)
    }

    @Test func atShutdownEverythingIsTakenAckedOrNot() {
        let ids = Self.ids
        var held = Self.holding()
        held.add([.delivered(ids[0], type: "a"), .delivered(ids[1], type: "a"), .settled(ids[2])], at: Self.start)
        held.add([.acknowledged(ids[1])], at: Self.start)
        let all = held.takeAll()
        #expect(
            all == [
                .settled(ids[2]), .delivered(ids[0], type: "a"), .delivered(ids[1], type: "a"), .acknowledged(ids[1]),
            ])
        #expect(held.isEmpty)
        let plan = RecordPlan(all)
        #expect(plan.delivered == ["a": [ids[0]]])
        #expect(plan.deliveredAndAcknowledged == ["a": [ids[1]]])
        #expect(plan.settled == [ids[2]])
    }
}

/// The store's updates take their `_id` lists in chunks.
@Suite struct UpdateChunksTests {
    @Test func idsAreSplitInOrderIntoListsOfAtMostTheChunkSize() {
        let ids = (0..<(NotificationStore.updateChunkSize * 2 + 3)).map { _ in BSONObjectID.generate() }
        let chunks = NotificationStore.updateChunks(ids)
        #expect(chunks.map(\.count) == [NotificationStore.updateChunkSize, NotificationStore.updateChunkSize, 3])
        #expect(chunks.flatMap { $0 } == ids)
        #expect(NotificationStore.updateChunks([]).isEmpty)
    }
}

/// Unread counts: a user at once, unless counted within the interval; then once it has passed.
@Suite struct CountScheduleTests {
    static let users = (0..<3).map { _ in BSONObjectID.generate() }
    static let start = ContinuousClock.now

    @Test func aUserIsCountedAtOnceThenAtMostOncePerInterval() {
        let users = Self.users
        var schedule = CountSchedule(interval: .milliseconds(250))
        schedule.request([users[0], users[0]], at: Self.start)
        #expect(schedule.take(at: Self.start) == [users[0]])
        schedule.request([users[0]], at: Self.start + .milliseconds(10))
        schedule.request([users[0]], at: Self.start + .milliseconds(20))
        #expect(schedule.take(at: Self.start + .milliseconds(20)).isEmpty)
        #expect(!schedule.isEmpty)
        #expect(schedule.take(at: Self.start + .milliseconds(249)).isEmpty)
        #expect(schedule.take(at: Self.start + .milliseconds(250)) == [users[0]])
        #expect(schedule.isEmpty)
    }

    @Test func otherUsersDoNotWaitForOneCountedRecently() {
        let users = Self.users
        var schedule = CountSchedule(interval: .milliseconds(250))
        schedule.request([users[0]], at: Self.start)
        _ = schedule.take(at: Self.start)
        schedule.request([users[0], users[1]], at: Self.start + .milliseconds(5))
        #expect(schedule.take(at: Self.start + .milliseconds(5)) == [users[1]])
        schedule.request([users[2]], at: Self.start + .seconds(1))
        #expect(Set(schedule.take(at: Self.start + .seconds(1))) == [users[0], users[2]])
    }

    @Test func atShutdownEveryoneAskedForIsCounted() {
        let users = Self.users
        var schedule = CountSchedule(interval: .milliseconds(250))
        schedule.request([users[0]], at: Self.start)
        _ = schedule.take(at: Self.start)
        schedule.request([users[0], users[1]], at: Self.start + .milliseconds(1))
        #expect(Set(schedule.takeAll()) == [users[0], users[1]])
        #expect(schedule.isEmpty)
    }
}
