import Testing

@testable import Observability

@Suite("DogStatsD line format")
struct DogStatsDLineTests {
    @Test func formatsCounterWithGlobalTagsFirst() {
        let line = DogStatsDLine.format(
            prefix: "",
            name: "queue.message.consumed",
            value: "1",
            type: .counter,
            tags: [("service", "decode-notification"), ("env", "prod"), ("queue_name", "notification_queue")]
        )
        #expect(
            line == "queue.message.consumed:1|c|#service:decode-notification,env:prod,queue_name:notification_queue")
    }

    @Test func formatsWithoutTagsAndWithPrefix() {
        let line = DogStatsDLine.format(prefix: "decode.", name: "email.sent", value: "3", type: .counter, tags: [])
        #expect(line == "decode.email.sent:3|c")
    }

    @Test func reservedCharactersCannotSplitALine() {
        let line = DogStatsDLine.format(
            prefix: "",
            name: "a:b|c",
            value: "1",
            type: .gauge,
            tags: [("reason", "x,y|z#w\nv")]
        )
        #expect(line == "a_b_c:1|g|#reason:x_y_z_w_v")
    }

    @Test func formatsValues() {
        #expect(DogStatsDLine.value(Int64(-42)) == "-42")
        #expect(DogStatsDLine.value(5.0) == "5")
        #expect(DogStatsDLine.value(2.5) == "2.5")
        #expect(DogStatsDLine.value(Double.nan) == "0")
    }

    @Test func convertsNanosecondsToMilliseconds() {
        #expect(DogStatsDLine.milliseconds(fromNanoseconds: 12_000_000) == "12")
        #expect(DogStatsDLine.milliseconds(fromNanoseconds: 12_345_678) == "12.345")
        #expect(DogStatsDLine.milliseconds(fromNanoseconds: 1_500_000) == "1.5")
        #expect(DogStatsDLine.milliseconds(fromNanoseconds: 999) == "0")
        #expect(DogStatsDLine.milliseconds(fromNanoseconds: -500_000) == "-0.5")
    }

    @Test func packsLinesIntoBoundedDatagrams() {
        let lines = (0..<100).map { "metric.number.\($0):1|c|#service:test" }
        let packets = DogStatsDLine.pack(lines, maxPayloadSize: 200)
        #expect(packets.count > 1)
        #expect(packets.allSatisfy { $0.utf8.count <= 200 })
        #expect(packets.flatMap { $0.split(separator: "\n").map(String.init) } == lines)
    }

    @Test func oversizedLineTravelsAlone() {
        let long = String(repeating: "x", count: 300) + ":1|c"
        let packets = DogStatsDLine.pack(["a:1|c", long, "b:1|c"], maxPayloadSize: 100)
        #expect(packets == ["a:1|c", long, "b:1|c"])
    }
}
