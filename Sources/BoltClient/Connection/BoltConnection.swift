import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// One Bolt connection: handshake, HELLO (and LOGON on 5.1+), then requests. Used by one task at a
/// time (a pool hands it out); requests written together are pipelined.
public final class BoltConnection: Sendable {
    /// The server this connection is open to.
    public let address: BoltAddress
    /// The Bolt version the server chose in the handshake.
    public let version: BoltVersion
    /// What the server said about itself in HELLO's SUCCESS (`server`).
    public var serverAgent: String { self.state.withLockedValue { $0.serverAgent } }
    let channel: any Channel
    let closedFuture: EventLoopFuture<BoltError>
    let requestTimeout: Duration
    private let state = NIOLockedValueBox(UsageState())

    struct UsageState {
        var isClosed = false
        /// A stream with more records, to discard before the next statement.
        var streamOpen = false
        /// Inside an explicit transaction.
        var inTransaction = false
        var lastUsed = ContinuousClock.now
        var serverAgent = ""
    }

    private init(
        address: BoltAddress, version: BoltVersion, channel: any Channel,
        closed: EventLoopFuture<BoltError>, requestTimeout: Duration
    ) {
        self.address = address
        self.version = version
        self.channel = channel
        self.closedFuture = closed
        self.requestTimeout = requestTimeout
        closed.whenComplete { [state] _ in state.withLockedValue { $0.isClosed = true } }
    }

    /// Connects to `address`, negotiates the version and logs in.
    ///
    /// - Throws: ``BoltError``: `connectionFailed`, `unsupportedVersion`, `authenticationFailed`
    ///   (with the server's `Neo.ClientError.Security...` code), `timeout`.
    public static func connect(
        to address: BoltAddress,
        configuration: BoltConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(BoltError) -> BoltConnection {
        let sslContext: NIOSSLContext?
        do {
            switch configuration.security {
            case .plain: sslContext = nil
            case .tls(let verify):
                var tls = TLSConfiguration.makeClientConfiguration()
                if !verify { tls.certificateVerification = .none }
                sslContext = try NIOSSLContext(configuration: tls)
            }
        } catch {
            throw BoltError(.connectionFailed, "TLS configuration: \(error)")
        }
        // SNI carries host names only; an IP address is verified against the certificate without it.
        let serverName = (try? SocketAddress(ipAddress: address.host, port: 0)) == nil ? address.host : nil
        let handlerBox = NIOLockedValueBox<(EventLoopFuture<BoltVersion>, EventLoopFuture<BoltError>)?>(nil)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoopGroup)
                .connectTimeout(TimeAmount(configuration.connectTimeout))
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let sslContext {
                            try channel.pipeline.syncOperations.addHandler(
                                try NIOSSLClientHandler(context: sslContext, serverHostname: serverName))
                        }
                        let handler = BoltChannelHandler(
                            eventLoop: channel.eventLoop,
                            proposals: BoltHandshake.proposals(allowBolt5: configuration.allowBolt5))
                        handlerBox.withLockedValue {
                            $0 = (handler.negotiated.futureResult, handler.closed.futureResult)
                        }
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
                .connect(host: address.host, port: address.port)
                .get()
        } catch {
            throw BoltError(.connectionFailed, "\(address): \(error)")
        }
        guard let (negotiated, closed) = handlerBox.withLockedValue({ $0 }) else {
            channel.close(promise: nil)
            throw BoltError(.connectionFailed, "the pipeline was not set up")
        }
        do {
            let version = try await Self.withTimeout(configuration.connectTimeout, channel: channel) {
                try await negotiated.get()
            }
            let connection = BoltConnection(
                address: address, version: version, channel: channel, closed: closed,
                requestTimeout: configuration.requestTimeout)
            let agent = try await connection.logIn(configuration)
            connection.state.withLockedValue { $0.serverAgent = agent }
            return connection
        } catch {
            channel.close(promise: nil)
            throw Self.boltError(error)
        }
    }

    private func logIn(_ configuration: BoltConfiguration) async throws(BoltError) -> String {
        var hello: [String: BoltValue] = ["user_agent": .string(configuration.userAgent)]
        if configuration.routing {
            var context = configuration.routingContext.mapValues(BoltValue.string)
            context["address"] = .string(self.address.description)
            hello["routing"] = .map(context)
        }
        if self.version.needsBoltAgent {
            hello["bolt_agent"] = ["product": .string(configuration.userAgent), "language": "Swift"]
        }
        if self.version.usesLogon {
            let summary = try await self.request(.hello(extra: hello))
            _ = try await self.request(.logon(auth: configuration.authToken))
            return summary.metadata["server"]?.stringValue ?? ""
        }
        hello.merge(configuration.authToken) { _, token in token }
        return try await self.request(.hello(extra: hello)).metadata["server"]?.stringValue ?? ""
    }

    // MARK: Requests

    /// Writes `requests` together and waits for every summary.
    func send(_ requests: [BoltRequest]) async -> [Result<BoltSummary, BoltError>] {
        let promises = requests.map { _ in self.channel.eventLoop.makePromise(of: BoltSummary.self) }
        let channel = self.channel
        let timeout = self.requestTimeout
        let timer = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            let error = BoltError(.timeout, "no answer within \(timeout)")
            for promise in promises { promise.fail(error) }
            channel.close(promise: nil)
        }
        self.channel.writeAndFlush(BoltOutbound(requests: requests, promises: promises)).whenFailure { error in
            for promise in promises { promise.fail(BoltError(.connectionClosed, "\(error)")) }
        }
        var results: [Result<BoltSummary, BoltError>] = []
        for promise in promises {
            do {
                results.append(.success(try await promise.futureResult.get()))
            } catch {
                results.append(.failure(Self.boltError(error)))
            }
        }
        timer.cancel()
        self.state.withLockedValue { $0.lastUsed = .now }
        return results
    }

    /// Sends one request and returns its summary.
    func request(_ request: BoltRequest) async throws(BoltError) -> BoltSummary {
        try await self.send([request])[0].get()
    }

    /// Sends requests together; the first failure is thrown (later ones are its IGNOREDs).
    func pipeline(_ requests: [BoltRequest]) async throws(BoltError) -> [BoltSummary] {
        let results = await self.send(self.discardingOpenStream() + requests)
        var summaries: [BoltSummary] = []
        for result in results {
            summaries.append(try result.get())
        }
        return Array(summaries.suffix(requests.count))
    }

    private func discardingOpenStream() -> [BoltRequest] {
        let open = self.state.withLockedValue { state in
            defer { state.streamOpen = false }
            return state.streamOpen
        }
        return open ? [.discard(n: -1, qid: -1)] : []
    }

    func markStream(open: Bool) {
        self.state.withLockedValue { $0.streamOpen = open }
    }

    // MARK: Queries

    /// Runs `query` with `parameters` (auto-commit outside a transaction, or inside the open one) and
    /// returns its records as they are pulled.
    ///
    /// - Throws: ``BoltError`` `server` with the Neo4j code for a failed statement.
    public func run(
        _ query: String,
        parameters: [String: BoltValue] = [:],
        database: String? = nil,
        write: Bool = true,
        fetchSize: Int64 = 1000
    ) async throws(BoltError) -> BoltResult {
        var extra: [String: BoltValue] = [:]
        let inTransaction = self.state.withLockedValue { $0.inTransaction }
        if !inTransaction {
            if let database { extra["db"] = .string(database) }
            if !write { extra["mode"] = "r" }
        }
        let summaries = try await self.pipeline([
            .run(query: query, parameters: parameters, extra: extra), .pull(n: fetchSize, qid: -1),
        ])
        let keys = summaries[0].metadata["fields"]?.listValue?.compactMap(\.stringValue) ?? []
        let hasMore = summaries[1].metadata["has_more"]?.boolValue ?? false
        self.markStream(open: hasMore)
        return BoltResult(
            keys: keys, connection: self, firstBatch: summaries[1].records, hasMore: hasMore,
            summary: hasMore ? nil : summaries[1].metadata, fetchSize: fetchSize)
    }

    /// Opens an explicit transaction.
    public func begin(database: String? = nil, write: Bool = true, timeout: Duration? = nil) async throws(BoltError) {
        var extra: [String: BoltValue] = [:]
        if let database { extra["db"] = .string(database) }
        if !write { extra["mode"] = "r" }
        if let timeout { extra["tx_timeout"] = .int(timeout.components.seconds * 1000) }
        _ = try await self.pipeline([.begin(extra: extra)])
        self.state.withLockedValue { $0.inTransaction = true }
    }

    /// Commits the open transaction; returns the bookmark when the server gives one.
    @discardableResult
    public func commit() async throws(BoltError) -> String? {
        defer { self.state.withLockedValue { $0.inTransaction = false } }
        return try await self.pipeline([.commit])[0].metadata["bookmark"]?.stringValue
    }

    /// Rolls the open transaction back.
    public func rollback() async throws(BoltError) {
        defer { self.state.withLockedValue { $0.inTransaction = false } }
        _ = try await self.pipeline([.rollback])
    }

    /// Returns the server to READY: ends a transaction or stream, clears a failure.
    public func reset() async throws(BoltError) {
        self.state.withLockedValue {
            $0.inTransaction = false
            $0.streamOpen = false
        }
        _ = try await self.request(.reset)
    }

    /// Fetches the routing table (`ROUTE`) for `database` (nil: the home database).
    func route(context: [String: String], database: String?) async throws(BoltError) -> [String: BoltValue] {
        var extra: [String: BoltValue] = [:]
        if let database { extra["db"] = .string(database) }
        var routing = context.mapValues(BoltValue.string)
        routing["address"] = .string(self.address.description)
        let summary = try await self.pipeline([.route(routing: routing, bookmarks: [], extra: extra)])[0]
        guard let table = summary.metadata["rt"]?.mapValue else {
            throw BoltError(.routing, "ROUTE answered without a routing table")
        }
        return table
    }

    // MARK: State

    /// Whether the connection can still take requests.
    public var isOpen: Bool { !self.state.withLockedValue { $0.isClosed } && self.channel.isActive }

    /// Whether the connection is outside a transaction with no open stream.
    var isClean: Bool { self.state.withLockedValue { !$0.inTransaction && !$0.streamOpen } }

    var idleTime: Duration { ContinuousClock.now - self.state.withLockedValue { $0.lastUsed } }

    /// Says GOODBYE and closes the socket.
    public func close() async {
        if self.isOpen {
            _ = await self.send([.goodbye])
        }
        try? await self.channel.close()
    }

    /// Waits until the connection is gone.
    public func closed() async -> BoltError {
        (try? await self.closedFuture.get()) ?? BoltError(.connectionClosed, "closed")
    }

    // MARK: Helpers

    private static func boltError(_ error: any Error) -> BoltError {
        (error as? BoltError) ?? BoltError(.connectionClosed, "\(error)")
    }

    private static func withTimeout<T: Sendable>(
        _ timeout: Duration, channel: any Channel, _ body: @Sendable () async throws -> T
    ) async throws -> T {
        let timer = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) { channel.close(promise: nil) }
        defer { timer.cancel() }
        return try await body()
    }
}
