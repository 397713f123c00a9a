import CoreMetrics
import Foundation
import NIOCore
import RedisClient
import Testing

@testable import Console

@Suite struct ThroughputTests {
    @Test func theTwoMetricsAreCountedByQueueInTenSecondBuckets() {
        let recorder = ThroughputRecorder()
        let factory = recorder.metricsFactory
        let before = ThroughputRecorder.bucket(of: Date())
        let dimensions = [("queue_name", "email_queue"), ("message_type", "email_request")]
        factory.makeCounter(label: "queue.message.consumed", dimensions: dimensions).increment(by: 3)
        factory.makeCounter(label: "queue.message.dead_lettered", dimensions: dimensions + [("reason", "permanent")])
            .increment(by: 1)
        // Other metrics, and the two without a queue, are ignored.
        factory.makeCounter(label: "queue.message.retried", dimensions: dimensions).increment(by: 5)
        factory.makeCounter(label: "queue.message.consumed", dimensions: []).increment(by: 7)
        let drained = recorder.drain()
        let after = ThroughputRecorder.bucket(of: Date())
        // Counted in the bucket of the moment they were incremented (the test may cross a boundary).
        #expect(drained.count == 2)
        #expect(drained.keys.allSatisfy { $0.queue == "email_queue" && [before, after].contains($0.bucket) })
        #expect(drained.filter { $0.key.kind == .processed }.map(\.value) == [3])
        #expect(drained.filter { $0.key.kind == .deadLettered }.map(\.value) == [1])
        #expect(recorder.drain().isEmpty)
    }

    @Test func bucketsStartOnTenSecondBoundaries() {
        #expect(ThroughputRecorder.bucket(of: Date(timeIntervalSince1970: 1_000_009.9)) == 1_000_000)
        #expect(ThroughputRecorder.bucket(of: Date(timeIntervalSince1970: 1_000_010)) == 1_000_010)
    }

    @Test func theChartReadsFifteenMinutesOldestFirst() {
        let (buckets, keys) = ThroughputRecorder.keys(
            queue: "q", kind: .deadLettered, now: Date(timeIntervalSince1970: 1_000_015))
        #expect(buckets.count == 90)
        let last: Int64 = 1_000_010
        let first: Int64 = last - 89 * 10
        #expect(buckets.last == last)
        #expect(buckets.first == first)
        #expect(keys.last == "decode-async:throughput:q:dead_lettered:1000010")
    }

    @Test func missingKeysCountAsZero() {
        let reply = RESPValue.array([.bulkString(ByteBuffer(string: "4")), .bulkString(nil), .null])
        #expect(ThroughputRecorder.counts(from: reply, expected: 3) == [4, 0, 0])
        #expect(ThroughputRecorder.counts(from: .error("ERR"), expected: 2) == [0, 0])
    }
}
