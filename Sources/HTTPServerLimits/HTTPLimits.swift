/// How long an HTTP/1 client may take to send a request head, how long a keep-alive connection may
/// sit idle between requests, and how large a head may be. nginx (`client_header_timeout`,
/// `keepalive_timeout`) and Node (`headersTimeout`, `maxHeaderSize`) enforce the same three.
///
/// Only the request head and the wait for the next request are governed: a request body, a parked
/// response (an Engine.IO long-poll) and an upgraded WebSocket are not.
public struct HTTPLimits: Sendable, Equatable {
    /// From accepting a connection, or from the first byte of a later request, until its head is
    /// complete. A client still sending its head then gets `408 Request Timeout` and a close.
    public var headTimeout: Duration
    /// How long a keep-alive connection may wait for its next request after a response ended; then
    /// it is closed without an answer.
    public var idleTimeout: Duration
    /// The largest request line plus header fields, in bytes; a larger head gets
    /// `431 Request Header Fields Too Large` and a close.
    public var maxHeadBytes: Int

    /// Defaults: 60 s head (nginx and Node), 75 s idle (nginx), 16 KiB head (Node's default).
    public init(headTimeout: Duration = .seconds(60), idleTimeout: Duration = .seconds(75), maxHeadBytes: Int = 16_384)
    {
        self.headTimeout = headTimeout
        self.idleTimeout = idleTimeout
        self.maxHeadBytes = maxHeadBytes
    }
}
