import Foundation
import Logging
import Testing

@testable import Observability

@Suite("Log line format")
struct LogLineFormatterTests {
    let time = Date(timeIntervalSince1970: 1_700_000_000.5)

    @Test func logfmtQuotesAndEscapesValues() {
        let line = LogLineFormatter(format: .logfmt).format(
            timestamp: self.time,
            level: .warning,
            label: "decode-async",
            message: "message dead-lettered",
            metadata: ["queue": "email_queue", "reason": "bad \"type\"\nnext"]
        )
        #expect(
            line
                == #"time=2023-11-14T22:13:20.500Z level=warning logger=decode-async msg="message dead-lettered" queue=email_queue reason="bad \"type\"\nnext""#
        )
    }

    @Test func jsonIsOneObjectPerLine() throws {
        let line = LogLineFormatter(format: .json).format(
            timestamp: self.time,
            level: .info,
            label: "decode-async",
            message: "line one\nline two",
            metadata: ["attempt": "\(3)", "tags": .array(["a", "b"]), "ctl": "\u{01}"]
        )
        #expect(!line.contains("\n"))
        let object = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["msg"] as? String == "line one\nline two")
        #expect(object["level"] as? String == "info")
        #expect(object["attempt"] as? String == "3")
        #expect(object["tags"] as? [String] == ["a", "b"])
        #expect(object["ctl"] as? String == "\u{01}")
        #expect(object["time"] as? String == "2023-11-14T22:13:20.500Z")
    }

    @Test func handlerMergesMetadataAndHonoursLevel() {
        let lines = LockedLines()
        var handler = StructuredLogHandler(
            label: "test",
            format: .logfmt,
            level: .info,
            sink: LogSink { lines.append($0) }
        )
        handler[metadataKey: "service"] = "email-worker"
        var logger = Logger(label: "test") { _ in handler }
        logger[metadataKey: "request"] = "r1"
        logger.debug("hidden")
        logger.info("shown", metadata: ["request": "r2"])
        #expect(lines.all.count == 1)
        #expect(lines.all.first?.hasSuffix("msg=shown request=r2 service=email-worker") == true)
    }
}
