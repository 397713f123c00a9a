/// A frame or field that does not follow AMQP 0-9-1, found while decoding.
public struct AMQPProtocolError: Error, Equatable, CustomStringConvertible, Sendable {
    /// What was wrong, without payload bytes.
    public var reason: String

    /// Creates an error with a reason.
    public init(_ reason: String) {
        self.reason = reason
    }

    /// The reason prefixed with "AMQP protocol violation", for logs and thrown-error messages.
    public var description: String { "AMQP protocol violation: \(self.reason)" }

    static let truncated = AMQPProtocolError("truncated field")
}
