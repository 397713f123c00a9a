import MongoStore

/// What happened to a pushed notification, to be written in a batch by the delivery recorder.
enum DeliveryRecord: Sendable, Equatable {
    /// Written to a live socket of its user.
    case delivered(BSONObjectID, type: String)
    /// The client acked its push.
    case acknowledged(BSONObjectID)
    /// Its message is acknowledged and its user was offline: forget its body hash.
    case settled(BSONObjectID)

    var isDelivery: Bool {
        if case .delivered = self { return true }
        return false
    }
}

/// The writes one batch of records needs: a delivery whose ack is in the same batch is written
/// with it (one update per document instead of two); ids keep their first-seen order.
struct RecordPlan: Equatable {
    /// Delivered and acked, by notification type.
    var deliveredAndAcknowledged: [String: [BSONObjectID]] = [:]
    /// Delivered, no ack yet, by notification type.
    var delivered: [String: [BSONObjectID]] = [:]
    /// Acked, delivery recorded earlier (or by another instance).
    var acknowledged: [BSONObjectID] = []
    /// Offline users' notifications whose messages are acknowledged.
    var settled: [BSONObjectID] = []

    init(_ records: [DeliveryRecord]) {
        var acked = Set<BSONObjectID>()
        for case .acknowledged(let id) in records {
            acked.insert(id)
        }
        var seen = Set<BSONObjectID>()
        var mergedAcks = Set<BSONObjectID>()
        for record in records {
            switch record {
            case .delivered(let id, let type):
                guard seen.insert(id).inserted else { continue }
                if acked.contains(id) {
                    self.deliveredAndAcknowledged[type, default: []].append(id)
                    mergedAcks.insert(id)
                } else {
                    self.delivered[type, default: []].append(id)
                }
            case .acknowledged, .settled:
                break
            }
        }
        var ackSeen = Set<BSONObjectID>()
        var settledSeen = Set<BSONObjectID>()
        for record in records {
            switch record {
            case .acknowledged(let id):
                if !mergedAcks.contains(id), ackSeen.insert(id).inserted { self.acknowledged.append(id) }
            case .settled(let id):
                if settledSeen.insert(id).inserted { self.settled.append(id) }
            case .delivered:
                break
            }
        }
    }
}

/// Deliveries held until their client acks them, so that one update per notification records
/// both (a separate ack update costs the store as much as the delivery's: every update rewrites
/// the document and all its index entries). A delivery is ready once its ack arrived, or alone
/// once it waited `ackWait` (a client that does not ack); acks of deliveries not held (recorded
/// earlier, or by another instance) and settled notifications are ready at once. What is ready is
/// taken in rounds: once `roundSize` records are ready, or the oldest of them arrived `linger`
/// ago, so that at low rates an update still carries many documents (an update's cost per
/// document falls with its size). No I/O, no clock: the recorder passes the time in.
struct HeldDeliveries {
    private struct Held {
        var type: String
        var since: ContinuousClock.Instant
        var acknowledged: Bool
    }

    let ackWait: Duration
    let linger: Duration
    let roundSize: Int
    private var held: [BSONObjectID: Held] = [:]
    /// Held ids in arrival order; may name ids already taken.
    private var order: [BSONObjectID] = []
    /// Acks of deliveries not held and settled notifications, with when they arrived.
    private var others: [(record: DeliveryRecord, since: ContinuousClock.Instant)] = []

    init(ackWait: Duration, linger: Duration, roundSize: Int) {
        self.ackWait = ackWait
        self.linger = linger
        self.roundSize = max(1, roundSize)
    }

    /// Nothing is held or waiting.
    var isEmpty: Bool { self.held.isEmpty && self.others.isEmpty }

    /// How many deliveries are held.
    var heldCount: Int { self.held.count }

    /// Takes `records` in: deliveries are held (an ack among the same records marks its delivery
    /// acknowledged, whichever came first), acks of held deliveries mark them, the rest is ready.
    mutating func add(_ records: [DeliveryRecord], at now: ContinuousClock.Instant) {
        for case .delivered(let id, let type) in records where self.held[id] == nil {
            self.held[id] = Held(type: type, since: now, acknowledged: false)
            self.order.append(id)
        }
        for record in records {
            switch record {
            case .delivered:
                break
            case .acknowledged(let id):
                if self.held[id] != nil {
                    self.held[id]?.acknowledged = true
                } else {
                    self.others.append((record, now))
                }
            case .settled:
                self.others.append((record, now))
            }
        }
    }

    private func isReady(_ entry: Held, at now: ContinuousClock.Instant) -> Bool {
        entry.acknowledged || now - entry.since >= self.ackWait
    }

    /// The next round, when one is due: every ready record (an acknowledged delivery with its ack, a
    /// delivery that waited ``ackWait`` alone, the other acks and settled notifications); empty
    /// while fewer than ``roundSize`` are ready and the oldest of them arrived under ``linger`` ago.
    mutating func takeDue(at now: ContinuousClock.Instant) -> [DeliveryRecord] {
        var ready = self.others.count
        var oldest = self.others.first?.since
        for id in self.order {
            guard let entry = self.held[id], self.isReady(entry, at: now) else { continue }
            ready += 1
            oldest = min(oldest ?? entry.since, entry.since)
        }
        guard let oldest, ready >= self.roundSize || now - oldest >= self.linger else { return [] }
        var due = self.others.map(\.record)
        self.others = []
        var kept: [BSONObjectID] = []
        for id in self.order {
            guard let entry = self.held[id] else { continue }
            guard self.isReady(entry, at: now) else {
                kept.append(id)
                continue
            }
            due.append(.delivered(id, type: entry.type))
            if entry.acknowledged { due.append(.acknowledged(id)) }
            self.held[id] = nil
        }
        self.order = kept
        return due
    }

    /// Everything, held or not (at shutdown: unacked deliveries are written without an ack).
    mutating func takeAll() -> [DeliveryRecord] {
        var all = self.others.map(\.record)
        for id in self.order {
            guard let entry = self.held[id] else { continue }
            all.append(.delivered(id, type: entry.type))
            if entry.acknowledged { all.append(.acknowledged(id)) }
        }
        self = HeldDeliveries(ackWait: self.ackWait, linger: self.linger, roundSize: self.roundSize)
        return all
    }
}

/// When each user's unread count is sent: at once, unless that user was counted less than
/// `interval` ago; then once the interval has passed, however many requests came meanwhile (a
/// burst to one user costs the store a few counts, each of which reads all the user's unread
/// notifications). Users counted at different times never wait for each other, so counts stay
/// spread out instead of arriving at the store together. No I/O, no clock.
struct CountSchedule {
    let interval: Duration
    private var lastCounted: [BSONObjectID: ContinuousClock.Instant] = [:]
    /// Users asked for while counted recently, with when they may be counted.
    private var waiting: [BSONObjectID: ContinuousClock.Instant] = [:]
    private var ready: [BSONObjectID] = []
    private var readySet: Set<BSONObjectID> = []

    init(interval: Duration) {
        self.interval = interval
    }

    /// No user waits.
    var isEmpty: Bool { self.waiting.isEmpty && self.ready.isEmpty }

    /// `users` want their count sent.
    mutating func request(_ users: [BSONObjectID], at now: ContinuousClock.Instant) {
        for user in users where !self.readySet.contains(user) && self.waiting[user] == nil {
            if let last = self.lastCounted[user], now - last < self.interval {
                self.waiting[user] = last + self.interval
            } else {
                self.ready.append(user)
                self.readySet.insert(user)
            }
        }
    }

    /// The users to count now, each marked counted at `now`.
    mutating func take(at now: ContinuousClock.Instant) -> [BSONObjectID] {
        var users = self.ready
        for (user, due) in self.waiting where due <= now {
            users.append(user)
            self.waiting[user] = nil
        }
        self.ready = []
        self.readySet = []
        if self.lastCounted.count > 10_000 {
            self.lastCounted = self.lastCounted.filter { now - $0.value < self.interval }
        }
        for user in users {
            self.lastCounted[user] = now
        }
        return users
    }

    /// Everything asked for and not counted yet (at shutdown).
    mutating func takeAll() -> [BSONObjectID] {
        let users = self.ready + self.waiting.keys
        self = CountSchedule(interval: self.interval)
        return users
    }
}
