import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// A Neo4j client: pooled connections to one server (`bolt` schemes) or to the members of a cluster
/// through a routing table (`neo4j` schemes, writes to a writer), and `withTransaction`, which retries
/// transient failures with exponential backoff.
public final class BoltClient: Service, Sendable {
    /// The server or cluster, credentials, pool size and timeouts the client was created with.
    public let configuration: BoltConfiguration
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    private let pools = NIOLockedValueBox<[BoltAddress: BoltPool]>([:])
    private let routing: BoltRouter?

    /// Creates the client; connections open on first use.
    /// - Parameters:
    ///   - configuration: The server or cluster to reach, credentials and limits.
    ///   - eventLoopGroup: Where the connections run; the shared NIO singleton by default.
    ///   - logger: Receives a warning for each retried transaction; never credentials or query parameters.
    public init(
        configuration: BoltConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "bolt")
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.routing = configuration.routing ? BoltRouter(seed: configuration.address) : nil
    }

    func pool(for address: BoltAddress) -> BoltPool {
        self.pools.withLockedValue { pools in
            if let pool = pools[address] { return pool }
            let pool = BoltPool(
                address: address, configuration: self.configuration, eventLoopGroup: self.eventLoopGroup)
            pools[address] = pool
            return pool
        }
    }

    /// The server for the next unit of work: the URI's server, or a writer (reader) from a fresh
    /// routing table.
    func address(write: Bool) async throws(BoltError) -> BoltAddress {
        guard let routing else { return self.configuration.address }
        return try await routing.address(write: write, database: self.configuration.database) {
            router async throws(BoltError) in
            let connection = try await self.pool(for: router).acquire()
            let result: Result<[String: BoltValue], BoltError>
            do throws(BoltError) {
                result = .success(
                    try await connection.route(
                        context: self.configuration.routingContext, database: self.configuration.database))
            } catch {
                result = .failure(error)
            }
            await self.pool(for: router).release(connection)
            return try result.get()
        }
    }

    /// Runs `body` with a connection of its own, then returns the connection to its pool.
    public func withConnection<T: Sendable>(
        write: Bool = true,
        _ body: (BoltConnection) async throws -> T
    ) async throws -> T {
        let address = try await self.address(write: write)
        let pool = self.pool(for: address)
        let connection = try await pool.acquire()
        do {
            let result = try await body(connection)
            await pool.release(connection)
            return result
        } catch {
            await pool.release(connection)
            if let bolt = error as? BoltError { await self.noteFailure(bolt, address: address) }
            throw error
        }
    }

    /// Runs one auto-commit statement and collects its records.
    public func query(
        _ query: String, parameters: [String: BoltValue] = [:], write: Bool = true
    ) async throws -> [BoltRecord] {
        try await self.withConnection(write: write) { connection in
            try await connection.run(query, parameters: parameters, database: self.configuration.database, write: write)
                .collect()
        }
    }

    /// Runs `body` in a transaction and commits it; on a retryable failure (``BoltError/isRetryable``:
    /// `Neo.TransientError...`, NotALeader, a lost connection) rolls back and runs it again after an
    /// exponentially growing, jittered pause, for at most `maximumRetryTime`.
    ///
    /// - Throws: the body's error, or the last ``BoltError`` once retrying gives up.
    public func withTransaction<T: Sendable>(
        write: Bool = true,
        maximumRetryTime: Duration = .seconds(30),
        _ body: (BoltTransaction) async throws -> T
    ) async throws -> T {
        try await Self.retrying(maximumRetryTime: maximumRetryTime, logger: self.logger) {
            try await self.withConnection(write: write) { connection in
                try await connection.begin(database: self.configuration.database, write: write)
                do {
                    let result = try await body(BoltTransaction(connection: connection))
                    try await connection.commit()
                    return result
                } catch {
                    // A FAILURE already ended the transaction on the server (and the connection reset
                    // itself); anything else leaves it open.
                    let endedByServer = (error as? BoltError).map { [.server, .ignored].contains($0.kind) } ?? false
                    if connection.isOpen, !endedByServer { try? await connection.rollback() }
                    throw error
                }
            }
        }
    }

    /// Runs `attempt` until it succeeds, throws something not retryable (``BoltError/isRetryable``),
    /// or the next pause would end after `maximumRetryTime`; pauses start at `initialDelay`, double
    /// up to 5 s, with ±20 % jitter.
    static func retrying<T>(
        maximumRetryTime: Duration,
        initialDelay: Duration = .milliseconds(50),
        logger: Logger,
        _ attempt: () async throws -> T
    ) async throws -> T {
        try await Self.retrying(
            maximumRetryTime: maximumRetryTime, initialDelay: initialDelay, clock: ContinuousClock(),
            jitter: { Double.random(in: 0.8...1.2) }, logger: logger, attempt)
    }

    /// ``retrying(maximumRetryTime:initialDelay:logger:_:)`` on `clock`, with `jitter` the factor of
    /// each pause (tests pass a clock they drive and a fixed factor).
    static func retrying<T, C: Clock<Duration>>(
        maximumRetryTime: Duration,
        initialDelay: Duration,
        clock: C,
        jitter: () -> Double,
        logger: Logger,
        _ attempt: () async throws -> T
    ) async throws -> T {
        let start = clock.now
        var delay = initialDelay
        while true {
            do {
                return try await attempt()
            } catch let error as BoltError {
                guard error.isRetryable, start.duration(to: clock.now) + delay < maximumRetryTime else { throw error }
                logger.warning("transaction failed; retrying", metadata: ["error": "\(error)", "delay": "\(delay)"])
                try await clock.sleep(for: delay * jitter())
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    /// Checks that a server can be reached and logged in to (for readiness).
    public func verifyConnectivity() async throws {
        _ = try await self.query("RETURN 1 AS ok", write: false)
    }

    /// Runs as a `Service` of the process: holds the pools until graceful shutdown (or
    /// cancellation), then closes them. Put the client before the services that use it in the
    /// `ServiceGroup`, so that they stop first. One-shot tools call ``shutdown()`` instead.
    public func run() async throws {
        try? await gracefulShutdown()
        await self.shutdown()
    }

    /// Closes every idle connection; the client takes no more work.
    public func shutdown() async {
        let pools = self.pools.withLockedValue { Array($0.values) }
        for pool in pools {
            await pool.close()
        }
    }

    private func noteFailure(_ error: BoltError, address: BoltAddress) async {
        guard let routing else { return }
        if error.needsRoutingRefresh {
            await routing.forgetWriter(address)
        } else if error.kind == .connectionFailed {
            await routing.forget(address)
        }
    }
}

/// Keeps the routing table of the client's database and refreshes it when stale.
actor BoltRouter {
    let seed: BoltAddress
    private var table: BoltRoutingTable?
    private var next = 0

    init(seed: BoltAddress) {
        self.seed = seed
    }

    func address(
        write: Bool,
        database: String?,
        fetch: (BoltAddress) async throws(BoltError) -> [String: BoltValue]
    ) async throws(BoltError) -> BoltAddress {
        if self.table?.isStale(forWriting: write, now: .now) ?? true {
            try await self.refresh(database: database, fetch: fetch)
        }
        guard let table else { throw BoltError(.routing, "no routing table") }
        let candidates = write ? table.writers : table.readers
        guard !candidates.isEmpty else {
            throw BoltError(.routing, "no \(write ? "writer" : "reader") in the routing table")
        }
        self.next &+= 1
        return candidates[self.next % candidates.count]
    }

    private func refresh(database: String?, fetch: (BoltAddress) async throws(BoltError) -> [String: BoltValue])
        async throws(BoltError)
    {
        var routers = self.table?.routers ?? []
        if !routers.contains(self.seed) { routers.append(self.seed) }
        var lastError = BoltError(.routing, "no router answered")
        for router in routers {
            do {
                let rt = try await fetch(router)
                self.table = try BoltRoutingTable(rt, fetchedAt: .now)
                return
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    func forgetWriter(_ address: BoltAddress) {
        self.table?.forgetWriter(address)
    }

    func forget(_ address: BoltAddress) {
        self.table?.forget(address)
    }
}
