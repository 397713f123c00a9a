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
