import AMQPClient
import AMQPProtocol
import Crypto
import Foundation
import NIOCore

/// Operations on `<queue>.dlq`: list and show dead letters with their reason and history, replay
/// them to the main queue (retry count reset), delete some, purge. `decode-async dlq` and the
/// operations console both run these.
public struct DeadLetterQueue: Sendable {
    /// One dead letter as an operator sees it.
    public struct Letter: Sendable {
        /// Position in the queue, 1-based, at the time of listing.
        public var position: Int
        /// The `message_id`, or for a letter without one `sha256:` and the first 16 hex digits of
        /// its body's SHA-256: what ``replay(messageIDs:)`` and ``delete(messageIDs:)`` match.
        public var id: String
        public var messageID: String?
        public var pattern: String?
        public var reason: String?
        public var kind: String?
        public var retryCount: Int
        /// How many times it was replayed before (``MessageHeaders/replayCount``).
        public var replayCount: Int
        public var firstFailureAt: String?
        public var deadLetteredAt: String?
        public var properties: AMQPBasicProperties
        public var body: ByteBuffer
    }

    public let client: AMQPClient
    public let topology: QueueTopology

    public init(client: AMQPClient, topology: QueueTopology) {
        self.client = client
        self.topology = topology
    }

    /// Reads up to `limit` dead letters without removing them (they are requeued in order).
    public func list(limit: Int = 100) async throws -> [Letter] {
        try await self.list(limit: limit, byteBudget: .max).letters
    }

    /// Reads up to `limit` dead letters without removing them (they are requeued in order), and
    /// stops early once the bodies read add up to more than `byteBudget` bytes (the letter that
    /// crossed it is kept): `reachedByteBudget` says whether that stopped the read.
    public func list(limit: Int, byteBudget: Int) async throws -> (letters: [Letter], reachedByteBudget: Bool) {
        try await self.client.withChannel { channel in
            var letters: [Letter] = []
            var lastTag: UInt64?
            var bytes = 0
            while letters.count < limit, bytes <= byteBudget,
                let result = try await channel.get(queue: self.topology.deadLetterQueue)
            {
                letters.append(Self.letter(from: result.delivery, position: letters.count + 1))
                bytes += result.delivery.body.readableBytes
                lastTag = result.delivery.deliveryTag
            }
            if let lastTag {
                channel.nack(deliveryTag: lastTag, multiple: true, requeue: true)
            }
            return (letters, bytes > byteBudget)
        }
    }

    /// Moves dead letters back to the main queue with a reset retry count and their replay count
    /// (``MessageHeaders/replayCount``) one higher; all of them, or those whose ``Letter/id`` is in
    /// `messageIDs`. Each is removed from the DLQ only after the main queue's broker
    /// confirmed the copy. Returns how many were replayed.
    public func replay(messageIDs: Set<String>? = nil) async throws -> Int {
        try await self.client.withChannel { channel in
            // At most what is there now: a replayed message that fails again comes back to the DLQ
            // and must not be replayed again by this run.
            let depth = try await channel.queueDeclare(self.topology.deadLetterQueue, passive: true).messageCount
            var replayed = 0
            var skipped: [UInt64] = []
            var seen: UInt32 = 0
            while seen < depth, let result = try await channel.get(queue: self.topology.deadLetterQueue) {
                seen += 1
                let delivery = result.delivery
                if let messageIDs, !messageIDs.contains(Self.id(of: delivery)) {
                    skipped.append(delivery.deliveryTag)
                    continue
                }
                var properties = delivery.properties
                var headers = properties.headers ?? [:]
                for name in MessageHeaders.all {
                    headers[name] = nil
                }
                let replays = headers[MessageHeaders.replayCount]?.intValue ?? 0
                headers[MessageHeaders.replayCount] = .int32(Int32(clamping: replays + 1))
                properties.headers = headers.isEmpty ? nil : headers
                properties.expiration = nil
                try await self.client.publish(
                    delivery.body,
                    routingKey: self.topology.queue,
                    mandatory: true,
                    properties: properties
                )
                channel.ack(deliveryTag: delivery.deliveryTag)
                replayed += 1
            }
            for tag in skipped {
                channel.nack(deliveryTag: tag, requeue: true)
            }
            return replayed
        }
    }

    /// Removes the dead letters whose ``Letter/id`` is in `ids` (acknowledged, so gone for good);
    /// the others stay in order. Returns how many were deleted.
    public func delete(messageIDs ids: Set<String>) async throws -> Int {
        try await self.client.withChannel { channel in
            let depth = try await channel.queueDeclare(self.topology.deadLetterQueue, passive: true).messageCount
            var deleted = 0
            var kept: [UInt64] = []
            var seen: UInt32 = 0
            while seen < depth, let result = try await channel.get(queue: self.topology.deadLetterQueue) {
                seen += 1
                if ids.contains(Self.id(of: result.delivery)) {
                    channel.ack(deliveryTag: result.delivery.deliveryTag)
                    deleted += 1
                } else {
                    kept.append(result.delivery.deliveryTag)
                }
            }
            for tag in kept {
                channel.nack(deliveryTag: tag, requeue: true)
            }
            return deleted
        }
    }

    /// Removes every dead letter; returns how many there were.
    public func purge() async throws -> UInt32 {
        try await self.client.withChannel { channel in
            try await channel.queuePurge(self.topology.deadLetterQueue)
        }
    }

    /// How many dead letters wait.
    public func depth() async throws -> UInt32 {
        try await self.client.withChannel { channel in
            try await channel.queueDeclare(self.topology.deadLetterQueue, passive: true).messageCount
        }
    }

    static func letter(from delivery: AMQPDelivery, position: Int) -> Letter {
        let headers = delivery.properties.headers ?? [:]
        return Letter(
            position: position,
            id: Self.id(of: delivery),
            messageID: delivery.properties.messageID,
            pattern: headers[MessageHeaders.originalPattern]?.stringValue,
            reason: headers[MessageHeaders.lastError]?.stringValue,
            kind: headers[MessageHeaders.deathReason]?.stringValue,
            retryCount: MessageHeaders.retryCount(of: delivery.properties),
            replayCount: Int(headers[MessageHeaders.replayCount]?.intValue ?? 0),
            firstFailureAt: headers[MessageHeaders.firstFailureAt]?.stringValue,
            deadLetteredAt: headers[MessageHeaders.deadLetteredAt]?.stringValue,
            properties: delivery.properties,
            body: delivery.body
        )
    }

    /// A letter's ``Letter/id``.
    static func id(of delivery: AMQPDelivery) -> String {
        if let messageID = delivery.properties.messageID, !messageID.isEmpty { return messageID }
        let digest = SHA256.hash(data: Data(delivery.body.readableBytesView))
        return "sha256:" + digest.prefix(8).map { String(format: "%02x", $0) }.joined()
    }
}
