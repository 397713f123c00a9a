import NIOConcurrencyHelpers
import Testing

@testable import SocketIO

/// The WebSocket frame writer without I/O: frames leave in order, each frame's waiters hear
/// whether it was written, and the end (close) comes once, after the last frame, only for an
/// attached WebSocket.
@Suite("WebSocket frame writer")
struct WebSocketFrameWriterTests {
    /// What the writer did, in order: `text:<frame>` or `close`.
    final class Log: Sendable {
        let entries = NIOLockedValueBox<[String]>([])
        /// Frames whose write fails.
        let failing: Set<String>

        init(failing: Set<String> = []) {
            self.failing = failing
        }

        func writer() -> WebSocketFrameWriter {
            WebSocketFrameWriter(
                write: { text in
                    if self.failing.contains(text) { throw CancellationError() }
                    self.entries.withLockedValue { $0.append("text:\(text)") }
                },
                onFinish: { self.entries.withLockedValue { $0.append("close") } }
            )
        }

        var all: [String] { self.entries.withLockedValue { $0 } }
    }

    /// Yields `text` and returns whether its waiter heard it was written.
    static func send(_ writer: WebSocketFrameWriter, _ text: String) async -> Bool {
        await withCheckedContinuation { continuation in
            writer.yield(SocketIOSocket.Frame(text: text, written: [continuation]))
        }
    }

    @Test func framesLeaveInOrderAndTheCloseComesAfterTheLast() async {
        let log = Log()
        let writer = log.writer()
        writer.arm(closing: true)
        // Queued without waiting, so several frames are pending while one task writes.
        for index in 0..<50 { writer.yield(SocketIOSocket.Frame(text: "\(index)", written: [])) }
        #expect(await Self.send(writer, "last"))
        writer.finish()
        await writer.drained()
        #expect(log.all == (0..<50).map { "text:\($0)" } + ["text:last", "close"])
    }

    @Test func afterAFailedWriteLaterFramesAreNotWrittenAndTheirWaitersHearSo() async {
        let log = Log(failing: ["broken"])
        let writer = log.writer()
        writer.arm(closing: true)
        #expect(await Self.send(writer, "first"))
        #expect(await Self.send(writer, "broken") == false)
        #expect(await Self.send(writer, "after") == false)
        writer.finish()
        await writer.drained()
        #expect(log.all == ["text:first", "close"])
    }

    @Test func aRefusedAttachmentEndsWithoutClosing() async {
        let log = Log()
        let writer = log.writer()
        // The socket refuses the attachment: it finishes the sink before the writer is armed.
        writer.finish()
        writer.arm(closing: false)
        await writer.drained()
        #expect(log.all.isEmpty)
    }

    @Test func aFrameAfterTheEndIsNotWritten() async {
        let log = Log()
        let writer = log.writer()
        writer.arm(closing: true)
        writer.finish()
        #expect(await Self.send(writer, "late") == false)
        await writer.drained()
        #expect(log.all == ["close"])
    }

    @Test func finishingTwiceClosesOnce() async {
        let log = Log()
        let writer = log.writer()
        writer.arm(closing: true)
        #expect(await Self.send(writer, "one"))
        writer.finish()
        writer.finish()
        await writer.drained()
        await writer.drained()
        #expect(log.all == ["text:one", "close"])
    }
}
