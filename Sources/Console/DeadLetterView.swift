import Foundation
import Messaging
import NIOCore

/// A dead letter as the console's API answers it: the body pretty-printed when it is JSON, cut to
/// ``previewLength`` characters unless the whole body is asked for. The API returns text; the page
/// puts it in the DOM as text (never as markup), so a body with `<script>` shows as written.
public struct DeadLetterView: Codable, Sendable, Equatable {
    public static let previewLength = 2_000

    public var id: String
    public var messageID: String?
    public var pattern: String?
    public var reason: String?
    public var kind: String?
    public var retryCount: Int
    /// How many times it was replayed before and failed again.
    public var replayCount: Int
    public var firstFailureAt: String?
    public var deadLetteredAt: String?
    public var body: String
    /// The body's length in characters after pretty-printing.
    public var bodyLength: Int
    public var truncated: Bool

    enum CodingKeys: String, CodingKey {
        case id
        case messageID = "message_id"
        case pattern, reason, kind
        case retryCount = "retry_count"
        case replayCount = "replay_count"
        case firstFailureAt = "first_failure_at"
        case deadLetteredAt = "dead_lettered_at"
        case body
        case bodyLength = "body_length"
        case truncated
    }

    public init(_ letter: DeadLetterQueue.Letter, full: Bool = false) {
        self.init(
            id: letter.id, messageID: letter.messageID, pattern: letter.pattern, reason: letter.reason,
            kind: letter.kind, retryCount: letter.retryCount, replayCount: letter.replayCount,
            firstFailureAt: letter.firstFailureAt,
            deadLetteredAt: letter.deadLetteredAt, body: Array(letter.body.readableBytesView), full: full)
    }

    init(
        id: String, messageID: String?, pattern: String?, reason: String?, kind: String?, retryCount: Int,
        replayCount: Int = 0,
        firstFailureAt: String?, deadLetteredAt: String?, body: [UInt8], full: Bool
    ) {
        self.id = id
        self.messageID = messageID
        self.pattern = pattern
        self.reason = reason
        self.kind = kind
        self.retryCount = retryCount
        self.replayCount = replayCount
        self.firstFailureAt = firstFailureAt
        self.deadLetteredAt = deadLetteredAt
        let text = Self.pretty(body)
        self.bodyLength = text.count
        self.truncated = !full && text.count > Self.previewLength
        self.body = self.truncated ? String(text.prefix(Self.previewLength)) : text
    }

    /// JSON re-indented with sorted keys; anything else as UTF-8 (invalid bytes replaced).
    static func pretty(_ bytes: [UInt8]) -> String {
        if let value = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]),
            let data = try? JSONSerialization.data(
                withJSONObject: value,
                options: [.prettyPrinted, .sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes]
            )
        {
            return String(decoding: data, as: UTF8.self)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// What stopped a read of a dead-letter queue before its end.
public enum ReadLimit: String, Codable, Sendable, Equatable {
    /// ``ConsoleData/deadLetterReadLimit`` letters were read.
    case letters
    /// The letters read exceeded ``ConsoleData/deadLetterByteBudget``.
    case bytes
}

/// One page of a list, newest first.
public struct Page<Item: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    public var items: [Item]
    /// 1-based.
    public var page: Int
    public var pageSize: Int
    /// How many there are (for a dead-letter queue its depth), which can be more than were read.
    public var total: Int
    /// The pages of the items read.
    public var pages: Int
    /// How many were read (what the pages hold).
    public var read: Int
    /// What stopped the read early, when something did.
    public var readLimit: ReadLimit?

    enum CodingKeys: String, CodingKey {
        case items, page, total, pages, read
        case pageSize = "page_size"
        case readLimit = "read_limit"
    }

    /// `oldestFirst` (queue order) reversed, then page `page` (clamped to the existing pages).
    /// `total`: how many there are when more than were read (never less than `oldestFirst.count`).
    public init(oldestFirst: [Item], page: Int, pageSize: Int, total totalAll: Int? = nil, readLimit: ReadLimit? = nil)
    {
        let size = max(1, pageSize)
        let total = oldestFirst.count
        let pages = max(1, (total + size - 1) / size)
        let page = min(max(1, page), pages)
        let newestFirst = Array(oldestFirst.reversed())
        let start = (page - 1) * size
        self.items = start < total ? Array(newestFirst[start..<min(total, start + size)]) : []
        self.page = page
        self.pageSize = size
        self.total = max(total, totalAll ?? 0)
        self.pages = pages
        self.read = total
        self.readLimit = readLimit
    }
}
