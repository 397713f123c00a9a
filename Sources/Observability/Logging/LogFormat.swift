/// The line format of the process's logs, chosen with `LOG_FORMAT`.
public enum LogFormat: String, Sendable, CaseIterable {
    /// `key=value` pairs, one event per line, easy to read and to grep.
    case logfmt
    /// One JSON object per line, for log shippers.
    case json
}
