import AMQPClient
import AMQPProtocol
import Foundation
import Messaging
import MetricsTestKit
import MongoStore
import NIOCore
import NotificationService
import RedisClient
import SocketIO
import Testing

/// The notification flow end to end: RabbitMQ → MongoDB → a python-socketio client, and the REST inbox.
@Suite("Notification delivery flow")
struct NotificationFlowIntegrationTests {
    static func payload(_ userID: String, title: String = "New Login Detected") -> NotificationPayload {
        NotificationPayload(userID: userID, type: "session_created", title: title, message: "You just signed in")
    }

    static func peer(_ harness: NotificationHarness, userID: String, scenario: String, stay: String = "1")
        async throws -> JSONValue
    {
        try await SocketIOGatewayIntegrationTests.peer(
            url: harness.url, token: NotificationHarness.signer.token(userID: userID), transports: "default",
            scenario: scenario, stay: stay)
    }

    static func count(_ harness: NotificationHarness, _ userID: String) async throws -> Int64 {
        let user = try #require(BSONObjectID(hex: userID))
        return try await harness.collection.countDocuments(MongoFilter.eq("user_id", .objectID(user)).document)
    }

    @Test func aPublishedNotificationReachesTheClientAndIsStoredOnceWhenPublishedTwice() async throws {
        try await BrokerLock.shared {
            try await NotificationHarness.run { harness in
                let userID = NotificationHarness.newUserID()
                async let report = Self.peer(harness, userID: userID, scenario: "collect:1", stay: "1.5")
                try await eventually("the user is connected") { !harness.server.localSockets(ofUser: userID).isEmpty }
                // The same message (same message_id) delivered twice, as after a lost ack.
                for _ in 0..<2 {
                    try await harness.publisher.emit(
                        pattern: "create_notification", data: Self.payload(userID), queue: harness.queue,
                        messageID: "msg-\(userID)")
                }
                let result = try await report
                let received = SocketIOGatewayIntegrationTests.events(result, named: "notification_received")
                #expect(received.count == 1)
                let event = try #require(received.first)
                #expect(event["event"]?.stringValue == "notification_received")
                #expect(event["userId"]?.stringValue == userID)
                #expect(event["data"]?["title"]?.stringValue == "New Login Detected")
                #expect(event["data"]?["user_id"]?.stringValue == userID)
                #expect(event["data"]?["delivered"] == .bool(false))
                #expect(event["data"]?["delivered_at"] == .null)
                #expect(event["data"]?["_id"] == nil)
                let unread = SocketIOGatewayIntegrationTests.events(result, named: "unread_count_changed")
                #expect(unread.first?["data"]?["count"] == .number(1))

                #expect(try await Self.count(harness, userID) == 1)
                let document = try #require(
                    try await harness.collection.findOne(
                        MongoFilter.eq("message_id", .string("msg-\(userID)")).document))
                #expect(document["user_id"] == BSONObjectID(hex: userID).map(BSON.objectID))
                #expect(document["__v"] == .int32(0))
                #expect(document["read"] == .bool(false))
                try await eventually("delivery and the client's ack are recorded") {
                    let stored = try await harness.collection.findOne(
                        MongoFilter.eq("message_id", .string("msg-\(userID)")).document)
                    return stored?["delivered"] == .bool(true) && stored?["delivered_at"]?.dateValue != nil
                        && stored?["acknowledged_at"]?.dateValue != nil
                }
            }
        }
    }

    @Test func twoIdenticalEmitsWithoutMessageIDAreTwoNotifications() async throws {
        try await BrokerLock.shared {
            try await NotificationHarness.run { harness in
                let userID = NotificationHarness.newUserID()
                let body = try NestEnvelope.encodeEvent(pattern: "create_notification", data: Self.payload(userID))
                let properties = AMQPBasicPropertiesForTests.nestJS
                for _ in 0..<2 {
                    try await harness.broker.publish(
                        .init(bytes: body), routingKey: harness.queue, properties: properties)
                }
                try await eventually("both are stored") { try await Self.count(harness, userID) == 2 }
            }
        }
    }

    @Test func aStalePresenceKeyWithoutASocketLeavesItUndeliveredAndReconnectPushesOldestFirstOnce() async throws {
        try await BrokerLock.shared {
            try await NotificationHarness.run { harness in
                let userID = NotificationHarness.newUserID()
                let user = try #require(BSONObjectID(hex: userID))
                // Presence left behind by a crashed instance: Redis says online, no socket exists.
                try await harness.redis.sadd("user_sockets:\(userID)", ["crashed:ghost"])
                var ids: [BSONObjectID] = []
                for index in 1...3 {
                    let request = CreateNotificationRequest(
                        userID: userID, type: "info", title: "t\(index)", message: "m\(index)")
                    let (notification, _) = try await harness.store.create(
                        try request.validated(), messageID: nil, now: Date(timeIntervalSinceNow: Double(index - 10)))
                    #expect(await harness.delivery.push(notification))  // presence said online
                    ids.append(notification.id)
                }
                for id in ids {
                    #expect(try await harness.store.find(id: id)?.delivered == false)
                }
                try await harness.redis.del(["user_sockets:\(userID)"])

                let report = try await Self.peer(harness, userID: userID, scenario: "collect:3", stay: "1.5")
                let titles = SocketIOGatewayIntegrationTests.events(report, named: "notification_received")
                    .compactMap { $0["data"]?["title"]?.stringValue }
                #expect(titles == ["t1", "t2", "t3"])
                for id in ids {
                    #expect(try await harness.store.find(id: id)?.delivered == true)
                }
                #expect(try await harness.store.undelivered(userID: user, limit: 10).isEmpty)
            }
        }
    }

    @Test func markingReadOverTheSocketAnswersTheSocketAndUpdatesTheCount() async throws {
        try await BrokerLock.shared {
            try await NotificationHarness.run { harness in
                let userID = NotificationHarness.newUserID()
                let other = NotificationHarness.newUserID()
                let mine = try await harness.store.create(
                    try CreateNotificationRequest(userID: userID, type: "info", title: "t", message: "m").validated(),
                    messageID: nil)
                try await harness.store.markDelivered(ids: [mine.notification.id])
                let theirs = try await harness.store.create(
                    try CreateNotificationRequest(userID: other, type: "info", title: "t", message: "m").validated(),
                    messageID: nil)

                let report = try await Self.peer(
                    harness, userID: userID, scenario: "read:\(mine.notification.id.hex)", stay: "1")
                let read = try #require(
                    SocketIOGatewayIntegrationTests.events(report, named: "notification_read").first)
                #expect(read["event"]?.stringValue == "mark_notification_read")
                #expect(read["data"]?["notificationId"]?.stringValue == mine.notification.id.hex)
                #expect(read["userId"]?.stringValue == userID)
                let unread = SocketIOGatewayIntegrationTests.events(report, named: "unread_count_changed")
                #expect(unread.last?["data"]?["count"] == .number(0))
                #expect(report["ack"]?["success"] == .bool(true))
                #expect(try await harness.store.find(id: mine.notification.id)?.read == true)

                // Someone else's notification: the original's error event, nothing changes.
                let refused = try await Self.peer(
                    harness, userID: userID, scenario: "read:\(theirs.notification.id.hex)", stay: "0.5")
                let error = try #require(SocketIOGatewayIntegrationTests.events(refused, named: "error").first)
                #expect(error["error"]?["code"]?.stringValue == "MARK_READ_ERROR")
                #expect(error["error"]?["message"]?.stringValue == "Failed to mark notification as read")
                #expect(refused["connected_at_end"] == .bool(true))
                #expect(try await harness.store.find(id: theirs.notification.id)?.read == false)
            }
        }
    }

    @Test func metricsUseTheOriginalNamesAndBoundedTags() async throws {
        let metrics = TestMetricsBackend.metrics
        @Sendable func total(_ label: String, _ tags: [(String, String)]) -> Int64 {
            metrics.counters(label: label)
                .filter { counter in tags.allSatisfy { tag in counter.dimensions.contains { $0 == tag } } }
                .reduce(0) { $0 + $1.totalValue }
        }
        try await BrokerLock.shared {
            try await NotificationHarness.run { harness in
                let type = "metrics_\(UUID().uuidString.prefix(8))"
                let userID = NotificationHarness.newUserID()
                async let report = Self.peer(harness, userID: userID, scenario: "collect:1", stay: "0.5")
                try await eventually("the user is connected") { !harness.server.localSockets(ofUser: userID).isEmpty }
                let payload = NotificationPayload(userID: userID, type: type, title: "t", message: "m")
                try await harness.publisher.emit(pattern: "create_notification", data: payload, queue: harness.queue)
                let bad = NotificationPayload(userID: userID, type: type, title: " ", message: "m")
                try await harness.publisher.emit(pattern: "create_notification", data: bad, queue: harness.queue)
                _ = try await report
                try await eventually("delivery is counted") {
                    total("notification.delivered", [("notification_type", type)]) == 1
                }
                try await eventually("the invalid one is counted") {
                    total("notification.created", [("notification_type", type), ("status", "failed")]) == 1
                }
                #expect(total("notification.created", [("notification_type", type), ("status", "success")]) == 1)
                #expect(
                    total(
                        "websocket.message.sent",
                        [("event_type", "notification_received"), ("notification_type", type)]) == 1)
                #expect(total("queue.message.consumed", [("queue_name", harness.queue), ("message_type", type)]) == 2)
                // user_id is never a tag (COMPAT.md 6: unbounded).
                for label in [
                    "websocket.connection", "websocket.disconnection", "websocket.message.sent",
                    "websocket.message.failed", "notification.created", "notification.delivered",
                ] {
                    #expect(metrics.counters(label: label).allSatisfy { !$0.dimensions.contains { $0.0 == "user_id" } })
                }
            }
        }
    }

    @Test func invalidPayloadsAreDeadLetteredAndNothingIsStored() async throws {
        try await BrokerLock.shared {
            try await NotificationHarness.run { harness in
                let bad = NotificationPayload(userID: "not-an-object-id", type: "x", title: "t", message: "m")
                try await harness.publisher.emit(pattern: "create_notification", data: bad, queue: harness.queue)
                let long = NotificationPayload(
                    userID: NotificationHarness.newUserID(), type: "x", title: String(repeating: "a", count: 1_000),
                    message: "m")
                try await harness.publisher.emit(pattern: "create_notification", data: long, queue: harness.queue)
                try await eventually("both are dead-lettered") {
                    try await MessagingHarness.depth(of: "\(harness.queue).dlq") == 2
                }
                #expect(try await harness.collection.countDocuments([:]) == 0)
            }
        }
    }

    @Test func restInboxPaginationCountsReadsAndRefusals() async throws {
        try await BrokerLock.shared {
            try await NotificationHarness.run { harness in
                let alice = NotificationHarness.newUserID()
                let bob = NotificationHarness.newUserID()
                let aliceToken = NotificationHarness.signer.token(userID: alice)
                for index in 0..<15 {
                    let request = CreateNotificationRequest(
                        userID: alice, type: "info", title: "a\(index)", message: "m")
                    _ = try await harness.store.create(
                        try request.validated(), messageID: nil, now: Date(timeIntervalSinceNow: Double(index - 100)))
                }
                let bobs = try await harness.store.create(
                    try CreateNotificationRequest(userID: bob, type: "info", title: "b", message: "m").validated(),
                    messageID: nil)

                let (status, first) = try await harness.request(
                    "GET", "/notifications?page=0&limit=10", token: aliceToken)
                #expect(status == 200)
                #expect(first["success"] == .bool(true))
                #expect(first["statusCode"] == .number(200))
                #expect(first["message"]?.stringValue == "Notifications retrieved successfully")
                guard case .array(let page)? = first["data"]?["notifications"] else {
                    Issue.record("no notifications in \(first)")
                    return
                }
                #expect(page.count == 10)
                #expect(page.first?["title"]?.stringValue == "a14")  // newest first
                #expect(page.first?["_id"] != nil && page.first?["id"] == nil)
                #expect(first["data"]?["meta"]?["total"] == .number(15))
                #expect(first["data"]?["meta"]?["is_last_page"] == .bool(false))
                let (_, second) = try await harness.request("GET", "/notifications?page=1&limit=10", token: aliceToken)
                #expect(second["data"]?["meta"]?["is_last_page"] == .bool(true))
                let (_, capped) = try await harness.request("GET", "/notifications?limit=500", token: aliceToken)
                #expect(capped["data"]?["meta"]?["limit"] == .number(100))

                for (query, message) in [
                    ("page=-1", "Failed to retrieve notifications"), ("limit=0", "Failed to retrieve notifications"),
                    ("page=abc", "Validation failed (numeric string is expected)"),
                ] {
                    let (status, body) = try await harness.request("GET", "/notifications?\(query)", token: aliceToken)
                    #expect(status == 400, "\(query)")
                    #expect(body["statusCode"] == .number(400))
                    #expect(body["success"] == .bool(false))
                    #expect(body["message"]?.stringValue == message)
                }
                let (missing, missingBody) = try await harness.request("GET", "/notifications", token: nil)
                #expect(missing == 401)
                #expect(missingBody["error"]?.stringValue == "MISSING_TOKEN")
                #expect(missingBody["statusCode"] == .number(401))
                let forged = AccessTokenSigner(secret: "wrong").token(userID: alice)
                let (refused, refusedBody) = try await harness.request("GET", "/notifications", token: forged)
                #expect(refused == 401)
                #expect(refusedBody["error"]?.stringValue == "TOKEN_EXPIRED")
                #expect(refusedBody["message"]?.stringValue == "Invalid or expired access token")

                let (_, count) = try await harness.request("GET", "/notifications/unread/count", token: aliceToken)
                #expect(count["data"]?["count"] == .number(15))

                // Bob's notification is missing for Alice: 404, and it stays unread.
                let bobsID = bobs.notification.id.hex
                let (foreign, foreignBody) = try await harness.request(
                    "PATCH", "/notifications/\(bobsID)/read", token: aliceToken)
                #expect(foreign == 404)
                #expect(foreignBody["message"]?.stringValue == "Notification not found")
                #expect(try await harness.store.find(id: bobs.notification.id)?.read == false)
                let (malformed, _) = try await harness.request("PATCH", "/notifications/xyz/read", token: aliceToken)
                #expect(malformed == 400)

                let aliceID = try #require(page.first?["_id"]?.stringValue)
                for method in ["PATCH", "POST"] {
                    let (marked, markedBody) = try await harness.request(
                        method, "/notifications/\(aliceID)/read", token: aliceToken)
                    #expect(marked == 200)
                    #expect(markedBody["message"]?.stringValue == "Notification marked as read successfully")
                    #expect(markedBody["data"]?["read"] == .bool(true))
                    #expect(markedBody["data"]?["read_at"]?.stringValue?.hasSuffix("Z") == true)
                }
                let (_, afterOne) = try await harness.request("GET", "/notifications/unread/count", token: aliceToken)
                #expect(afterOne["data"]?["count"] == .number(14))
                let (all, allBody) = try await harness.request("PATCH", "/notifications/read-all", token: aliceToken)
                #expect(all == 200)
                #expect(allBody["message"]?.stringValue == "All notifications marked as read")
                #expect(allBody["data"] == nil)
                let (_, afterAll) = try await harness.request("GET", "/notifications/unread/count", token: aliceToken)
                #expect(afterAll["data"]?["count"] == .number(0))
                #expect(try await harness.store.find(id: bobs.notification.id)?.read == false)

                // A browser's preflight for PATCH with Authorization, and the CORS headers of the answer.
                let (preflight, _, preflightHeaders) = try await harness.exchange(
                    "OPTIONS", "/notifications/\(aliceID)/read", token: nil,
                    headers: ["Origin": "https://app.decode.example", "Access-Control-Request-Method": "PATCH"])
                #expect(preflight == 204)
                let methods = preflightHeaders["Access-Control-Allow-Methods"] as? String ?? ""
                #expect(methods.contains("PATCH"))
                #expect(preflightHeaders["Access-Control-Allow-Origin"] as? String == "https://app.decode.example")
                #expect(preflightHeaders["Access-Control-Allow-Credentials"] as? String == "true")

                let (health, healthBody) = try await harness.request("GET", "/notifications/health", token: nil)
                #expect(health == 200)
                #expect(healthBody["data"]?["service"]?.stringValue == "notification")
                let (unknown, unknownBody) = try await harness.request("GET", "/nothing/here", token: nil)
                #expect(unknown == 404)
                #expect(unknownBody["message"]?.stringValue == "Cannot GET /nothing/here")
                #expect(unknownBody["error"]?.stringValue == "Not Found")
            }
        }
    }

    @Test func theOpenAPIDocumentDescribesExactlyTheRoutes() async throws {
        try await BrokerLock.shared {
            try await NotificationHarness.run { harness in
                let (status, document) = try await harness.request("GET", "/api/docs/openapi.json", token: nil)
                #expect(status == 200)
                guard case .object(let paths)? = document["paths"] else {
                    Issue.record("no paths in the OpenAPI document")
                    return
                }
                var documented: Set<String> = []
                for path in paths {
                    guard case .object(let operations) = path.value else { continue }
                    for operation in operations { documented.insert("\(operation.key.uppercased()) \(path.key)") }
                }
                let served = Set(NotificationRoutes.routes.map { "\($0.method) \($0.path)" })
                #expect(documented == served)
                // Each listed route is served (none answers the unknown-path 404).
                let token = NotificationHarness.signer.token(userID: NotificationHarness.newUserID())
                for route in NotificationRoutes.routes {
                    let path = route.path.replacingOccurrences(of: "{id}", with: BSONObjectID.generate().hex)
                    let (_, body) = try await harness.request(route.method, path, token: token)
                    #expect(body["message"]?.stringValue?.hasPrefix("Cannot ") != true, "\(route.method) \(path)")
                }
            }
        }
    }
}

/// Properties as a NestJS publisher sets them: persistent JSON, no message id.
enum AMQPBasicPropertiesForTests {
    static var nestJS: AMQPBasicProperties {
        var properties = AMQPBasicProperties()
        properties.contentType = "application/json"
        properties.deliveryMode = 2
        return properties
    }
}
