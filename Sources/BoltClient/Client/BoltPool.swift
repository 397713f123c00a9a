import DequeModule
import NIOCore
import NIOPosix

/// Connections to one server: at most `maximum` at once; idle ones reused, checked with RESET when
/// they sat unused longer than the configuration's `livenessCheckAfter`, dropped when closed.
actor BoltPool {
    let address: BoltAddress
    let configuration: BoltConfiguration
    let eventLoopGroup: any EventLoopGroup
    private var idle: [BoltConnection] = []
    private var open = 0
    private var waiters = Deque<CheckedContinuation<Void, Never>>()
    private var isClosed = false

    init(address: BoltAddress, configuration: BoltConfiguration, eventLoopGroup: any EventLoopGroup) {
        self.address = address
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
    }

    /// A live connection for the caller alone; give it back with ``release(_:)``.
    ///
    /// - Throws: ``BoltError`` from connecting, or `poolClosed`.
    func acquire() async throws(BoltError) -> BoltConnection {
        while true {
            guard !self.isClosed else { throw BoltError(.poolClosed, "the Bolt client is shut down") }
            if let connection = self.idle.popLast() {
                if await self.isAlive(connection) { return connection }
                self.open -= 1
                continue
            }
            if self.open < self.configuration.maximumConnectionsPerServer {
                self.open += 1
                do {
                    return try await BoltConnection.connect(
                        to: self.address, configuration: self.configuration, eventLoopGroup: self.eventLoopGroup)
                } catch {
                    self.open -= 1
                    self.wakeOne()
                    throw error
                }
            }
            await withCheckedContinuation { self.waiters.append($0) }
        }
    }

    /// Returns a connection: kept when open and clean (reset first when a transaction or stream was
    /// left behind), closed otherwise.
    func release(_ connection: BoltConnection) async {
        if connection.isOpen, !connection.isClean {
            try? await connection.reset()
        }
        if connection.isOpen, connection.isClean, !self.isClosed {
            self.idle.append(connection)
        } else {
            self.open -= 1
            await connection.close()
        }
        self.wakeOne()
    }

    /// Closes idle connections and refuses new acquisitions.
    func close() async {
        self.isClosed = true
        let connections = self.idle
        self.idle = []
        self.open -= connections.count
        for connection in connections {
            await connection.close()
        }
        while let waiter = self.waiters.popFirst() {
            waiter.resume()
        }
    }

    var counts: (idle: Int, open: Int) { (self.idle.count, self.open) }

    private func isAlive(_ connection: BoltConnection) async -> Bool {
        guard connection.isOpen else { return false }
        guard connection.idleTime >= self.configuration.livenessCheckAfter else { return true }
        do {
            try await connection.reset()
            return true
        } catch {
            await connection.close()
            return false
        }
    }

    private func wakeOne() {
        self.waiters.popFirst()?.resume()
    }
}
