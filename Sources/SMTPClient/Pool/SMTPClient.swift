import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// A pool of SMTP connections: at most `maxConnections` open, each reused for up to
/// `maxMessagesPerConnection` messages (with `RSET` before each reuse) and closed after
/// `idleTimeout` unused. Senders beyond the limit wait their turn.
///
/// It is a `Service`: ``run()`` closes idle connections as they expire and all of them at shutdown.
public final class SMTPClient: Service, Sendable {
    /// Server, TLS, credentials, timeouts and pool limits.
    public let configuration: SMTPConfiguration
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    private let state: NIOLockedValueBox<SMTPPoolState>

    /// A pool that connects lazily, on the first send.
    public init(
        configuration: SMTPConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "decode-async.smtp")
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.state = NIOLockedValueBox(SMTPPoolState(maxConnections: configuration.maxConnections))
    }

    // MARK: Sending

    /// Sends one message over a pooled connection; returns the server's acceptance reply.
    ///
    /// - Throws: ``SMTPError``; ``SMTPError/isTransient`` says whether a later attempt may succeed.
    @discardableResult
    public func send(_ message: SMTPMessage) async throws -> SMTPReply {
        let lease = try await self.lease()
        do {
            let reply = try await lease.connection.send(message)
            await self.release(lease, usable: true)
            return reply
        } catch let error as SMTPError {
            // A refused transaction leaves the session usable (RSET before the next one); a broken one does not.
            await self.release(
                lease, usable: [.rejected, .invalidMessage, .messageTooLarge].contains(error.code))
            throw error
        } catch {
            await self.release(lease, usable: false)
            throw error
        }
    }

    /// Opens a fresh connection, runs the whole handshake (EHLO, STARTTLS, AUTH) and QUITs: proves
    /// the server, TLS and credentials work. Used at start-up and by `/ready`.
    public func verify() async throws {
        let connection = try await SMTPConnection.connect(
            configuration: self.configuration, eventLoopGroup: self.eventLoopGroup, logger: self.logger)
        await connection.quit()
    }

    // MARK: Leasing

    struct Lease: Sendable {
        var connection: SMTPConnection
        var messagesSent: Int
    }

    private func lease() async throws -> Lease {
        while true {
            let decision = self.state.withLockedValue {
                $0.acquire(now: .now, idleTimeout: self.configuration.idleTimeout)
            }
            switch decision {
            case .shutdown:
                throw SMTPError(.shutdown, "the SMTP client is shut down")
            case .reuse(let idle, let expired):
                await self.closeAll(expired)
                // RSET clears any state left behind and proves the connection is still alive.
                do {
                    try await idle.connection.reset()
                    return Lease(connection: idle.connection, messagesSent: idle.messagesSent)
                } catch {
                    self.logger.debug(
                        "a pooled connection failed RSET; opening another", metadata: ["error": "\(error)"])
                    await idle.connection.close()
                    self.state.withLockedValue { $0.connectionClosed() }?.resume()
                }
            case .open(let expired):
                await self.closeAll(expired)
                do {
                    let connection = try await SMTPConnection.connect(
                        configuration: self.configuration, eventLoopGroup: self.eventLoopGroup, logger: self.logger)
                    return Lease(connection: connection, messagesSent: 0)
                } catch {
                    self.state.withLockedValue { $0.connectionClosed() }?.resume()
                    throw error
                }
            case .wait(let expired):
                await self.closeAll(expired)
                try await self.waitForTurn()
            }
        }
    }

    private func waitForTurn() async throws {
        let id = self.state.withLockedValue { $0.nextWaiterID() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow = self.state.withLockedValue { $0.addWaiter(id: id, continuation) }
                if resumeNow {
                    continuation.resume()
                }
            }
        } onCancel: {
            self.state.withLockedValue { $0.removeWaiter(id: id) }?.resume(throwing: CancellationError())
        }
    }

    private func release(_ lease: Lease, usable: Bool) async {
        let sent = lease.messagesSent + 1
        let keep = usable && lease.connection.isActive && sent < self.configuration.maxMessagesPerConnection
        if keep {
            let (accepted, waiter) = self.state.withLockedValue {
                $0.returnIdle(SMTPPoolState.Idle(connection: lease.connection, messagesSent: sent, since: .now))
            }
            waiter?.resume()
            if !accepted {
                await lease.connection.quit()
            }
            return
        }
        if usable, lease.connection.isActive {
            await lease.connection.quit()
        } else {
            await lease.connection.close()
        }
        self.state.withLockedValue { $0.connectionClosed() }?.resume()
    }

    private func closeAll(_ idle: [SMTPPoolState.Idle]) async {
        for entry in idle {
            await entry.connection.quit()
        }
    }

    // MARK: Service

    /// Verifies the server once (the outcome is logged: a server that is down is not fatal, sends
    /// fail transiently until it answers), then closes idle connections once they pass
    /// `idleTimeout`; at graceful shutdown closes every idle connection and fails later sends
    /// (messages in flight finish first).
    public func run() async throws {
        let interval = max(self.configuration.idleTimeout / 2, .milliseconds(100))
        try? await cancelWhenGracefulShutdown {
            do {
                try await self.verify()
                self.logger.info(
                    "SMTP server verified",
                    metadata: ["host": "\(self.configuration.host)", "port": "\(self.configuration.port)"])
            } catch {
                self.logger.error("SMTP server verification failed", metadata: ["error": "\(error)"])
            }
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                let expired = self.state.withLockedValue {
                    $0.removeExpired(now: .now, idleTimeout: self.configuration.idleTimeout)
                }
                await self.closeAll(expired)
            }
        }
        await self.shutdown()
    }

    /// Closes every idle connection and refuses new sends.
    public func shutdown() async {
        let (idle, waiters) = self.state.withLockedValue { $0.shutdown() }
        for waiter in waiters {
            waiter.resume(throwing: SMTPError(.shutdown, "the SMTP client is shut down"))
        }
        await self.closeAll(idle)
    }
}
