import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// A small pool of pipelined connections for commands, plus one subscriber connection for pub/sub
/// that reconnects with backoff and subscribes again to every channel and pattern it had.
///
/// It is a `Service`: ``run()`` keeps the subscriber connection alive until graceful shutdown.
/// Commands work without `run()`; a dead command connection is replaced on the next command.
public final class RedisClient: Service, Sendable {
    /// The server, credentials, pool size and timeouts the client was created with.
    public let configuration: RedisConfiguration
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    private let slots: [ConnectionSlot]
    private let next = NIOLockedValueBox(0)
    let subscriptions = SubscriptionRegistry()
    let connectionListeners = ConnectionEventListeners()

    /// Creates the client; connections open on the first command, the subscriber once ``run()`` runs.
    /// - Parameters:
    ///   - configuration: The server to reach, credentials, pool size and timeouts.
    ///   - eventLoopGroup: Where the connections run; the shared NIO singleton by default.
    ///   - logger: Receives connection and reconnect events; never passwords or payloads.
    public init(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "decode-async.redis")
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.slots = (0..<configuration.poolSize).map { _ in ConnectionSlot() }
    }

    // MARK: Commands

    /// Sends a command on one of the pooled connections (round-robin) and returns the reply.
    ///
    /// - Throws: ``RedisError`` (`server`, `connectionFailed`, `timeout`, ...).
    @discardableResult
    public func send(_ arguments: [RESPArgument]) async throws -> RESPValue {
        let index = self.next.withLockedValue { value -> Int in
            defer { value = (value + 1) % self.slots.count }
            return value
        }
        let connection = try await self.slots[index].connection {
            try await RedisConnection.connect(self.configuration, eventLoopGroup: self.eventLoopGroup)
        }
        return try await connection.send(arguments)
    }

    /// Closes every connection and ends every subscription.
    public func shutdown() {
        for slot in self.slots {
            slot.close()
        }
        self.subscriptions.finishAll()
        self.connectionListeners.finishAll()
    }
}

/// A lazily (re)connected connection. Callers that find none connect; if two race, the first
/// connection stored wins and the other is closed.
final class ConnectionSlot: Sendable {
    private let current = NIOLockedValueBox<RedisConnection?>(nil)

    func connection(_ connect: () async throws -> RedisConnection) async throws -> RedisConnection {
        if let connection = self.current.withLockedValue({ $0 }), connection.isOpen {
            return connection
        }
        let fresh = try await connect()
        let winner = self.current.withLockedValue { current -> RedisConnection in
            if let existing = current, existing.isOpen { return existing }
            current = fresh
            return fresh
        }
        if winner !== fresh {
            fresh.close()
        }
        return winner
    }

    func close() {
        self.current.withLockedValue { current in
            defer { current = nil }
            return current
        }?.close()
    }
}
