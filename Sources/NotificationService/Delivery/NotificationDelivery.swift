import Foundation
import Logging
import Messaging
import Metrics
import MongoStore
import NIOConcurrencyHelpers
import SocketIO

/// Pushes notifications to users' sockets and records what happened to them: `delivered` once a
/// push was written to a live socket of the user (on whichever instance holds it), the first client
/// ack, reads over the socket, and the replay of undelivered notifications on connect.
public final class NotificationDelivery: SocketIOServerDelegate {
    public static let receivedEvent = "notification_received"
    public static let unreadCountEvent = "unread_count_changed"
    public static let markReadEvent = "mark_notification_read"
    public static let readEvent = "notification_read"
    /// Undelivered notifications pushed per batch on connect.
    public static let replayBatch = 50

    let store: NotificationStore
    let server: SocketIOServer
    let logger: Logger
    /// Notifications being pushed by this instance: a concurrent duplicate message or the connect
    /// replay skips them, so one client does not get the same notification twice from here.
    private let inFlight = NIOLockedValueBox<Set<BSONObjectID>>([])
    /// Notifications this instance wrote to a socket lately: a duplicate message, or the connect
    /// replay, that finds one still undelivered in the store does not push it again.
    private let pushed = RecentWork<BSONObjectID>()
    /// Deliveries, client acks and settled offline notifications waiting to be written, a batch at a
    /// time, by ``runRecording()``.
    let records: ReadyBatches<DeliveryRecord>
    /// Users whose unread count changed with a new notification, counted by ``runCounting()``:
    /// each user at most once per ``countInterval`` (a burst to one user costs the store a few
    /// counts, not one per batch).
    let countRequests = ReadyBatches<BSONObjectID>(maxSize: 1_000)

    /// The longest a delivery waits for its client's ack before it is recorded without one. A
    /// delivery whose ack arrives is recorded with it at once, in one update (a separate ack update
    /// costs the store as much as the delivery's: each rewrites the document and its index entries).
    let ackWait: Duration
    /// The shortest time between two unread counts of one user: a burst to a user costs the store
    /// a few counts, not one per batch (each count reads every unread notification of the user).
    let countInterval: Duration

    /// - Parameters:
    ///   - recordBatchSize: most records the recorder takes in at a time.
    ///   - ackWait: how long a delivery waits for its client's ack before it is written alone.
    ///   - countInterval: the shortest time between two unread counts of one user.
    public init(
        store: NotificationStore, server: SocketIOServer, recordBatchSize: Int = 500,
        ackWait: Duration = .seconds(1), countInterval: Duration = .milliseconds(250), logger: Logger
    ) {
        self.store = store
        self.server = server
        self.logger = logger
        self.ackWait = ackWait
        self.countInterval = countInterval
        self.records = ReadyBatches(maxSize: recordBatchSize)
    }

    // MARK: Recording

    /// How often the recorder looks for acks while deliveries wait for them.
    static let ackPoll = Duration.milliseconds(10)
    /// How long the recorder lets a round gather before it writes fewer records than one update
    /// takes (``NotificationStore/updateChunkSize``): at low rates, one update for many pushes.
    let recordLinger = Duration.milliseconds(100)

    /// Writes what ``records`` gathers until ``finishRecording()`` and everything gathered is
    /// written, in rounds (``HeldDeliveries``): a delivery once its client acked it (delivery and ack
    /// in one `updateMany` per notification type), or alone once it waited ``ackWait``; acks of
    /// deliveries recorded earlier and offline users' notifications with one update each per round.
    /// A round is written once an update's worth of records is ready or ``recordLinger`` after the
    /// oldest. At shutdown, what still waits is written without its ack.
    public func runRecording() async {
        var holding = HeldDeliveries(
            ackWait: self.ackWait, linger: self.recordLinger, roundSize: NotificationStore.updateChunkSize)
        while true {
            if holding.isEmpty {
                guard let batch = await self.records.next() else { break }
                holding.add(batch, at: .now)
            } else {
                if self.records.isFinished || Task.isCancelled { break }
                try? await Task.sleep(for: Self.ackPoll)
                holding.add(self.records.takeReady(), at: .now)
            }
            await self.write(RecordPlan(holding.takeDue(at: .now)))
        }
        holding.add(self.records.takeReady(), at: .now)
        await self.write(RecordPlan(holding.takeAll()))
    }

    private func write(_ plan: RecordPlan) async {
        for (type, ids) in plan.deliveredAndAcknowledged.sorted(by: { $0.key < $1.key }) {
            await self.markDelivered(ids, type: type, acknowledged: true)
        }
        for (type, ids) in plan.delivered.sorted(by: { $0.key < $1.key }) {
            await self.markDelivered(ids, type: type, acknowledged: false)
        }
        do {
            try await self.store.markAcknowledged(ids: plan.acknowledged)
            try await self.store.forgetBodyHashes(ids: plan.settled)
        } catch {
            self.logger.warning("notifications: acks not recorded", metadata: ["error": "\(error)"])
        }
    }

    /// Ends ``runRecording()`` and ``runCounting()`` once what is gathered is written and counted.
    public func finishRecording() {
        self.records.finish()
        self.countRequests.finish()
    }

    /// Tells `userID`'s sockets the new unread count soon: requests that gather while earlier
    /// counts run are merged, one count per user.
    public func requestUnreadCount(_ userID: BSONObjectID) {
        self.countRequests.append(userID)
    }

    /// Counts and sends what ``requestUnreadCount(_:)`` gathers until ``finishRecording()``: each
    /// user at once, unless counted less than ``countInterval`` ago (then once that has passed,
    /// one count for all the requests meanwhile; ``CountSchedule``).
    public func runCounting() async {
        var schedule = CountSchedule(interval: self.countInterval)
        while true {
            if schedule.isEmpty {
                guard let batch = await self.countRequests.next() else { break }
                schedule.request(batch, at: .now)
            } else {
                if self.countRequests.isFinished || Task.isCancelled { break }
                try? await Task.sleep(for: Self.ackPoll)
                schedule.request(self.countRequests.takeReady(), at: .now)
            }
            await self.count(schedule.take(at: .now))
        }
        await self.count(schedule.takeAll() + self.countRequests.takeReady())
    }

    private func count(_ users: [BSONObjectID]) async {
        var seen = Set<BSONObjectID>()
        let users = users.filter { seen.insert($0).inserted }
        await withDiscardingTaskGroup { group in
            for user in users {
                group.addTask { await self.unreadCountChanged(userID: user) }
            }
        }
    }

    private func markDelivered(_ ids: [BSONObjectID], type: String, acknowledged: Bool) async {
        do {
            let count = try await self.store.markDelivered(ids: ids, acknowledged: acknowledged)
            if count > 0 {
                Counter(label: "notification.delivered", dimensions: [("notification_type", type)])
                    .increment(by: Int(count))
            }
            if acknowledged, count < ids.count {
                // Some were delivered before (another push): their first ack is recorded alone.
                try await self.store.markAcknowledged(ids: ids)
            }
        } catch {
            // They stay undelivered and are pushed again on the next connect.
            self.pushed.forget(ids)
            self.logger.warning("notifications: delivery not recorded", metadata: ["error": "\(error)"])
        }
    }

    /// Pushes a stored notification to every socket of its user, here or on another instance.
    /// Returns false (and counts `user_not_connected`) when the user has no live socket anywhere.
    @discardableResult
    public func push(_ notification: Notification) async -> Bool {
        await self.push(batch: [notification]).contains(notification.userID)
    }

    /// Pushes a batch of stored notifications: each user's presence is checked once, every
    /// notification of an online user is pushed, concurrently; an offline user's are left for the
    /// replay on connect. Returns the users that were online.
    public func push(batch notifications: [Notification]) async -> Set<BSONObjectID> {
        let users = Array(Set(notifications.map(\.userID)))
        let online = await withTaskGroup(of: (BSONObjectID, Bool).self) { group in
            for user in users {
                group.addTask { (user, await self.server.isUserConnected(user.hex)) }
            }
            return await group.reduce(into: Set<BSONObjectID>()) { online, answer in
                if answer.1 { online.insert(answer.0) }
            }
        }
        await withDiscardingTaskGroup { group in
            for notification in notifications {
                guard online.contains(notification.userID) else {
                    Counter(
                        label: "websocket.message.failed",
                        dimensions: [("event_type", Self.receivedEvent), ("reason", "user_not_connected")]
                    ).increment()
                    self.records.append(.settled(notification.id))
                    continue
                }
                group.addTask { await self.emit(notification) }
            }
        }
        return online
    }

    private func emit(_ notification: Notification) async {
        guard self.begin(notification.id) else { return }
        defer { self.end(notification.id) }
        let dimensions = [("event_type", Self.receivedEvent), ("notification_type", notification.type)]
        let start = ContinuousClock.now
        await self.server.emit(
            toUser: notification.userID.hex, Self.receivedEvent, [Self.payload(notification)], wantsAck: true,
            context: Self.context(of: notification))
        Metrics.Timer(label: "websocket.message.duration", dimensions: dimensions).record(duration: .now - start)
    }

    /// Tells every socket of the user its unread count.
    public func unreadCountChanged(userID: BSONObjectID) async {
        do {
            let count = try await self.store.unreadCount(userID: userID)
            await self.server.emit(
                toUser: userID.hex, Self.unreadCountEvent,
                [
                    Self.envelope(
                        Self.unreadCountEvent, data: .object(["count": .number(Double(count))]), userID: userID.hex)
                ]
            )
        } catch {
            self.logger.warning("notifications: unread count not sent", metadata: ["error": "\(error)"])
        }
    }

    /// `notification_received`'s payload: the state before delivery is recorded (COMPAT.md 3.4).
    public static func payload(_ notification: Notification) -> JSONValue {
        self.envelope(Self.receivedEvent, data: notification.socketJSON, userID: notification.userID.hex)
    }

    static func envelope(_ event: String, data: JSONValue, userID: String) -> JSONValue {
        .object([
            "event": .string(event),
            "data": data,
            "timestamp": .string(Notification.timestamp(Date())),
            "userId": .string(userID),
        ])
    }

    // MARK: SocketIOServerDelegate

    /// A push was written to `sockets` of this instance's sockets: the notification is delivered.
    public func roomEmitDelivered(_ emit: RoomEmit, sockets: Int) async {
        guard emit.event == Self.receivedEvent, sockets > 0, let id = Self.notificationID(emit) else {
            return
        }
        let type = emit.context[Self.typeKey] ?? "unknown"
        Counter(
            label: "websocket.message.sent",
            dimensions: [("event_type", Self.receivedEvent), ("notification_type", type)]
        ).increment(by: sockets)
        self.pushed.insert(id)
        self.records.append(.delivered(id, type: type))
    }

    public func roomEmitAcknowledged(_ emit: RoomEmit, userID: String, reply: [JSONValue]) async {
        guard emit.event == Self.receivedEvent, let id = Self.notificationID(emit) else { return }
        self.records.append(.acknowledged(id))
    }

    /// On (re)connect: the user's undelivered notifications, oldest first, in batches, each marked
    /// delivered once written to this socket.
    public func socketAuthenticated(_ socket: SocketIOSocket, userID: String) async {
        guard let user = BSONObjectID(hex: userID) else { return }
        var replayed = Set<BSONObjectID>()
        while !socket.isClosed {
            let batch: [Notification]
            do {
                batch = try await self.store.undelivered(userID: user, limit: Self.replayBatch)
                    .filter { !replayed.contains($0.id) }
            } catch {
                self.logger.warning("notifications: undelivered replay failed", metadata: ["error": "\(error)"])
                return
            }
            guard !batch.isEmpty else { return }
            var written: [String: [BSONObjectID]] = [:]
            var socketGone = false
            for notification in batch {
                replayed.insert(notification.id)
                guard self.begin(notification.id) else { continue }
                defer { self.end(notification.id) }
                let wrote = await socket.emit(Self.receivedEvent, [Self.payload(notification)]) { reply in
                    guard reply != nil else { return }
                    self.records.append(.acknowledged(notification.id))
                }
                guard wrote else {
                    socketGone = true
                    break
                }
                Counter(
                    label: "websocket.message.sent",
                    dimensions: [("event_type", Self.receivedEvent), ("notification_type", notification.type)]
                ).increment()
                // The flow's push of the same notification (a duplicate message) skips it.
                self.pushed.insert(notification.id)
                written[notification.type, default: []].append(notification.id)
            }
            // Recorded before the next page is read, so that page starts after this one.
            for (type, ids) in written.sorted(by: { $0.key < $1.key }) {
                await self.markDelivered(ids, type: type, acknowledged: false)
            }
            if socketGone { return }
        }
    }

    /// `mark_notification_read {notificationId}`: marks it read, answers `notification_read` to
    /// this socket and the new unread count to all of the user's sockets; failures answer the
    /// original's `error` event (`MARK_READ_ERROR`), and the socket stays.
    public func socket(_ socket: SocketIOSocket, userID: String, event: String, arguments: [JSONValue]) async
        -> [JSONValue]?
    {
        guard event == Self.markReadEvent else { return nil }
        Counter(label: "websocket.message.received", dimensions: [("event_type", Self.markReadEvent)]).increment()
        let start = ContinuousClock.now
        let rawID = arguments.first?["notificationId"]?.stringValue
        var failed = true
        defer {
            var dimensions = [("event_type", Self.markReadEvent)]
            if failed { dimensions.append(("error", "true")) }
            Metrics.Timer(label: "websocket.message.duration", dimensions: dimensions).record(duration: .now - start)
        }
        guard let user = BSONObjectID(hex: userID), let rawID, let id = BSONObjectID(hex: rawID) else {
            await self.markReadFailed(socket)
            return [.object(["success": .bool(false)])]
        }
        do {
            guard let notification = try await self.store.markRead(id: id, userID: user) else {
                await self.markReadFailed(socket)
                return [.object(["success": .bool(false)])]
            }
            failed = false
            Counter(
                label: "notification.read",
                dimensions: [("notification_type", notification.type), ("status", "success")]
            ).increment()
            await socket.emit(
                Self.readEvent,
                [Self.envelope(Self.markReadEvent, data: .object(["notificationId": .string(rawID)]), userID: userID)]
            )
            await self.unreadCountChanged(userID: user)
            return [.object(["success": .bool(true)])]
        } catch {
            self.logger.warning("notifications: mark read failed", metadata: ["error": "\(error)"])
            await self.markReadFailed(socket)
            return [.object(["success": .bool(false)])]
        }
    }

    static let markReadError = SocketIOClientError(
        code: "MARK_READ_ERROR", message: "Failed to mark notification as read")

    private func markReadFailed(_ socket: SocketIOSocket) async {
        Counter(label: "notification.read", dimensions: [("status", "failed")]).increment()
        await socket.emit("error", [NotificationGateway.errorPayload(Self.markReadError)])
    }

    private func begin(_ id: BSONObjectID) -> Bool {
        guard !self.pushed.contains(id) else { return false }
        return self.inFlight.withLockedValue { $0.insert(id).inserted }
    }

    private func end(_ id: BSONObjectID) {
        self.inFlight.withLockedValue { _ = $0.remove(id) }
    }

    static let idKey = "notification_id"
    static let typeKey = "notification_type"

    /// What a push says of itself, given back with its outcomes on every instance that writes it.
    public static func context(of notification: Notification) -> [String: String] {
        [Self.idKey: notification.id.hex, Self.typeKey: notification.type]
    }

    static func notificationID(_ emit: RoomEmit) -> BSONObjectID? {
        emit.context[Self.idKey].flatMap(BSONObjectID.init(hex:))
    }
}
