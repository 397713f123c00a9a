import Logging
import NIOConcurrencyHelpers

/// Set once ``HTTPLimitsHandler`` has closed or refused its connection.
final class HTTPConnectionCutMark: Sendable {
    private let cut = NIOLockedValueBox(false)

    func set() {
        self.cut.withLockedValue { $0 = true }
    }

    var isSet: Bool { self.cut.withLockedValue { $0 } }
}

/// The log handler of one connection's HTTP handling: once the limits cut the connection, the
/// framework's complaints about it (hummingbird-websocket logs "Error handling upgrade result" at
/// error level when a connection closes before its first head) are only debug records. A client
/// cut off by a limit is expected traffic, not a server error.
struct CutConnectionLogHandler: LogHandler {
    var base: any LogHandler
    let mark: HTTPConnectionCutMark

    func log(event: LogEvent) {
        guard self.mark.isSet, event.level > .debug else {
            self.base.log(event: event)
            return
        }
        guard self.base.logLevel <= .debug else { return }
        var event = event
        event.level = .debug
        self.base.log(event: event)
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.base[metadataKey: key] }
        set { self.base[metadataKey: key] = newValue }
    }

    var metadata: Logger.Metadata {
        get { self.base.metadata }
        set { self.base.metadata = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { self.base.metadataProvider }
        set { self.base.metadataProvider = newValue }
    }

    var logLevel: Logger.Level {
        get { self.base.logLevel }
        set { self.base.logLevel = newValue }
    }
}
