/// A routing table from `ROUTE`: which servers route, read and write one database, and for how long.
public struct BoltRoutingTable: Sendable, Equatable {
    /// The database the table is for; `nil` for the default database.
    public var database: String?
    /// Servers that answer `ROUTE`.
    public var routers: [BoltAddress]
    /// Servers that take read transactions.
    public var readers: [BoltAddress]
    /// Servers that take write transactions (the leader).
    public var writers: [BoltAddress]
    /// How long the table may be used after `fetchedAt` (the server's `ttl`, 300 s when absent).
    public var timeToLive: Duration
    /// When the table was fetched.
    public var fetchedAt: ContinuousClock.Instant

    /// Creates a table from its parts.
    public init(
        database: String?, routers: [BoltAddress], readers: [BoltAddress], writers: [BoltAddress],
        timeToLive: Duration, fetchedAt: ContinuousClock.Instant
    ) {
        self.database = database
        self.routers = routers
        self.readers = readers
        self.writers = writers
        self.timeToLive = timeToLive
        self.fetchedAt = fetchedAt
    }

    /// Parses the `rt` map: `{ttl, db, servers: [{addresses, role: WRITE|READ|ROUTE}]}`.
    ///
    /// - Throws: ``BoltError`` `routing` when it has no routers (an unusable table).
    public init(_ rt: [String: BoltValue], fetchedAt: ContinuousClock.Instant) throws(BoltError) {
        var routers: [BoltAddress] = []
        var readers: [BoltAddress] = []
        var writers: [BoltAddress] = []
        for server in rt["servers"]?.listValue ?? [] {
            let addresses = (server["addresses"].listValue ?? []).compactMap {
                $0.stringValue.flatMap(BoltAddress.init)
            }
            switch server["role"].stringValue {
            case "ROUTE": routers += addresses
            case "READ": readers += addresses
            case "WRITE": writers += addresses
            default: continue
            }
        }
        guard !routers.isEmpty else { throw BoltError(.routing, "the routing table lists no routers") }
        self.init(
            database: rt["db"]?.stringValue, routers: routers, readers: readers, writers: writers,
            timeToLive: .seconds(rt["ttl"]?.intValue ?? 300), fetchedAt: fetchedAt)
    }

    /// Expired, or without a server for the role asked for.
    public func isStale(forWriting: Bool, now: ContinuousClock.Instant) -> Bool {
        now - self.fetchedAt >= self.timeToLive || (forWriting ? self.writers.isEmpty : self.readers.isEmpty)
    }

    /// Forgets a server that failed as a writer (NotALeader): the next write refreshes the table.
    public mutating func forgetWriter(_ address: BoltAddress) {
        self.writers.removeAll { $0 == address }
    }

    /// Forgets a server that cannot be reached at all.
    public mutating func forget(_ address: BoltAddress) {
        self.routers.removeAll { $0 == address }
        self.readers.removeAll { $0 == address }
        self.writers.removeAll { $0 == address }
    }
}
