import Foundation
import Logging
import NIOConcurrencyHelpers

/// A `LogHandler` that writes one logfmt or JSON line per event to standard error.
///
/// Lines are written with a single `write(2)` under a process-wide lock, so lines from concurrent
/// tasks never interleave. Metadata merges in the usual order: global, logger, then the event's own.
public struct StructuredLogHandler: LogHandler {
    /// The lowest level written.
    public var logLevel: Logger.Level
    /// Metadata attached to every event of this logger.
    public var metadata: Logger.Metadata = [:]

    private let label: String
    private let formatter: LogLineFormatter
    private let sink: LogSink

    /// Creates a handler for the logger `label`, writing to `sink` (standard error by default).
    public init(label: String, format: LogFormat, level: Logger.Level, sink: LogSink = .standardError) {
        self.label = label
        self.formatter = LogLineFormatter(format: format)
        self.logLevel = level
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = self.metadata
        if let extra = event.metadata {
            merged.merge(extra) { _, new in new }
        }
        let line = self.formatter.format(
            timestamp: Date(),
            level: event.level,
            label: self.label,
            message: event.message.description,
            metadata: merged
        )
        self.sink.write(line)
    }
}

/// Where log lines go: standard error, or a closure (tests).
public struct LogSink: Sendable {
    private let writeLine: @Sendable (String) -> Void

    /// A sink that receives every formatted line.
    public init(_ writeLine: @escaping @Sendable (String) -> Void) {
        self.writeLine = writeLine
    }

    func write(_ line: String) {
        self.writeLine(line)
    }

    private static let lock = NIOLock()

    /// Standard error, one `write(2)` per line.
    public static let standardError = LogSink { line in
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        lock.withLock {
            bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = Foundation.write(2, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
                    if written <= 0 { return }
                    offset += written
                }
            }
        }
    }
}
