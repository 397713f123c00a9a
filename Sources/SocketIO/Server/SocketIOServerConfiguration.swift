/// How a ``SocketIOServer`` serves its namespace: Engine.IO timings and limits, CORS, per-socket
/// limits and the Redis channel instances exchange room emits on.
public struct SocketIOServerConfiguration: Sendable {
    /// The HTTP path of the Engine.IO endpoint (socket.io's default).
    public var path: String
    /// The one namespace clients connect to (socket.io's default: `/`).
    public var namespace: String
    public var pingInterval: Duration
    public var pingTimeout: Duration
    /// Largest Engine.IO payload (a polling POST body or a WebSocket message), in bytes.
    public var maxPayload: Int
    /// Allowed browser origins: `["*"]` allows any origin (the request's `Origin` is echoed, so
    /// credentialed requests work); otherwise exact origins.
    public var corsOrigins: [String]
    /// Events a socket may send per second on average, and the burst it may send at once.
    public var eventsPerSecond: Double
    public var eventBurst: Double
    /// Largest Socket.IO event a client may send, in bytes (larger ones are refused, the socket stays).
    public var maxEventBytes: Int
    /// How long an emit waits for the client's acknowledgement.
    public var ackTimeout: Duration
    /// This process's id in presence members and cross-instance messages.
    public var instanceID: String
    /// The Redis channel every instance publishes room emits to and subscribes to; nil:
    /// `socket.io:<namespace>` (``channel``).
    public var busChannel: String?

    public init(
        path: String = "/socket.io",
        namespace: String = "/",
        pingInterval: Duration = .seconds(25),
        pingTimeout: Duration = .seconds(20),
        maxPayload: Int = 1_000_000,
        corsOrigins: [String] = ["*"],
        eventsPerSecond: Double = 20,
        eventBurst: Double = 40,
        maxEventBytes: Int = 16 * 1024,
        ackTimeout: Duration = .seconds(10),
        instanceID: String,
        busChannel: String? = nil
    ) {
        self.path = path
        self.namespace = namespace
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.maxPayload = maxPayload
        self.corsOrigins = corsOrigins
        self.eventsPerSecond = eventsPerSecond
        self.eventBurst = eventBurst
        self.maxEventBytes = maxEventBytes
        self.ackTimeout = ackTimeout
        self.instanceID = instanceID
        self.busChannel = busChannel
    }

    /// The channel room emits travel on: ``busChannel``, or `socket.io:<namespace>`.
    public var channel: String { self.busChannel ?? "socket.io:\(self.namespace)" }

    /// The `open` packet's data for a new session.
    func handshake(sid: String) -> EngineIOHandshake {
        EngineIOHandshake(
            sid: sid,
            upgrades: ["websocket"],
            pingInterval: Int(self.pingInterval / .milliseconds(1)),
            pingTimeout: Int(self.pingTimeout / .milliseconds(1)),
            maxPayload: self.maxPayload
        )
    }

    /// The `Access-Control-Allow-Origin` answer for a request from `origin`, nil when not allowed.
    func allowedOrigin(_ origin: String?) -> String? {
        guard let origin else { return self.corsOrigins.contains("*") ? "*" : nil }
        if self.corsOrigins.contains("*") || self.corsOrigins.contains(origin) { return origin }
        return nil
    }
}

/// A token bucket: `rate` tokens a second up to `burst`; each event takes one.
struct TokenBucket: Sendable {
    let rate: Double
    let burst: Double
    private var tokens: Double
    private var updated: ContinuousClock.Instant

    init(rate: Double, burst: Double, now: ContinuousClock.Instant) {
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.updated = now
    }

    /// Takes a token if one is left.
    mutating func take(now: ContinuousClock.Instant) -> Bool {
        let elapsed = (now - self.updated) / .seconds(1)
        self.tokens = min(self.burst, self.tokens + max(0, elapsed) * self.rate)
        self.updated = now
        guard self.tokens >= 1 else { return false }
        self.tokens -= 1
        return true
    }
}
