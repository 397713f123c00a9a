import Foundation
import GraphSync

/// `GET /api/overview`.
public struct Overview: Codable, Sendable {
    public var generatedAt: String
    /// Whether `RABBITMQ_MANAGEMENT_URI` is set (unacknowledged counts and rates need it).
    public var management: Bool
    public var queues: [QueueStats]
    public var presence: PresenceStats
    public var notifications: NotificationStats
    public var graph: GraphState
    public var throughput: [ThroughputSeries]

    enum CodingKeys: String, CodingKey {
        case generatedAt = "generated_at"
        case management, queues, presence, notifications, graph, throughput
    }
}

public struct QueueStats: Codable, Sendable, Equatable {
    public var queue: String
    public var exists = false
    public var ready: Int?
    public var unacknowledged: Int?
    public var consumers: Int?
    public var publishRate: Double?
    public var deliverRate: Double?
    public var retryQueues: [RetryQueueStats] = []
    public var deadLetters: Int?
    public var error: String?
    public var managementError: String?

    init(queue: String) {
        self.queue = queue
    }

    enum CodingKeys: String, CodingKey {
        case queue, exists, ready, unacknowledged, consumers
        case publishRate = "publish_rate"
        case deliverRate = "deliver_rate"
        case retryQueues = "retry_queues"
        case deadLetters = "dead_letters"
        case error
        case managementError = "management_error"
    }
}

public struct RetryQueueStats: Codable, Sendable, Equatable {
    public var name: String
    public var depth: Int
}

public struct PresenceStats: Codable, Sendable, Equatable {
    public var users: Int?
    public var sockets: Int?
    public var error: String?
}

public struct NotificationStats: Codable, Sendable, Equatable {
    public var storedLastHour: Int?
    public var deliveredLastHour: Int?
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case storedLastHour = "stored_last_hour"
        case deliveredLastHour = "delivered_last_hour"
        case error
    }
}

public struct GraphState: Codable, Sendable, Equatable {
    public struct Check: Codable, Sendable, Equatable {
        public var checkedAt: String
        public var checkedUsers: Int
        public var differing: Int
        public var firstDifferences: [String]
        public var repairsEmitted: Int?
        public var ranBy: String

        init(_ record: SyncCheckRecord) {
            self.checkedAt = ISO8601DateFormatter().string(from: record.checkedAt)
            self.checkedUsers = record.checkedUsers
            self.differing = record.differing
            self.firstDifferences = record.firstDifferences
            self.repairsEmitted = record.repairsEmitted
            self.ranBy = record.ranBy
        }

        enum CodingKeys: String, CodingKey {
            case checkedAt = "checked_at"
            case checkedUsers = "checked_users"
            case differing
            case firstDifferences = "first_differences"
            case repairsEmitted = "repairs_emitted"
            case ranBy = "ran_by"
        }
    }

    /// Whether Run check and Fix can run here.
    public var available: Bool
    public var running: Bool
    public var lastCheck: Check?
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case available, running
        case lastCheck = "last_check"
        case error
    }
}
