import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// A message received on a subscription.
public struct RedisMessage: Sendable {
    /// The channel it was published to.
    public var channel: String
    /// The pattern that matched, for `PSUBSCRIBE` subscriptions.
    public var pattern: String?
    /// The published message, as raw bytes.
    public var payload: ByteBuffer
}

/// What a subscription listens to.
public enum RedisSubscriptionTarget: Sendable, Hashable {
    /// A channel by exact name (`SUBSCRIBE`).
    case channel(String)
    /// Every channel matching a glob pattern such as `news.*` (`PSUBSCRIBE`).
    case pattern(String)
    /// A Redis 7 shard channel (`SSUBSCRIBE`).
    case shardChannel(String)

    var subscribeCommand: [RESPArgument] {
        switch self {
        case .channel(let name): ["SUBSCRIBE", .string(name)]
        case .pattern(let name): ["PSUBSCRIBE", .string(name)]
        case .shardChannel(let name): ["SSUBSCRIBE", .string(name)]
        }
    }

    var unsubscribeCommand: [RESPArgument] {
        switch self {
        case .channel(let name): ["UNSUBSCRIBE", .string(name)]
        case .pattern(let name): ["PUNSUBSCRIBE", .string(name)]
        case .shardChannel(let name): ["SUNSUBSCRIBE", .string(name)]
        }
    }
}

/// Messages of one subscription; ends when unsubscribed or the client shuts down.
public struct RedisSubscription: AsyncSequence, Sendable {
    /// Each element is one message published to the subscribed channel or pattern.
    public typealias Element = RedisMessage

    let id: UInt64
    let target: RedisSubscriptionTarget
    let messages: AsyncStream<RedisMessage>
    let client: RedisClient

    /// Iterates the messages across reconnects; messages published while disconnected are lost.
    public func makeAsyncIterator() -> AsyncStream<RedisMessage>.AsyncIterator {
        self.messages.makeAsyncIterator()
    }

    /// Stops this subscription (the server subscription ends when no other subscriber needs it).
    public func unsubscribe() async {
        await self.client.unsubscribe(self)
    }
}

/// Every live subscription, and which the server confirmed on the current subscriber connection.
///
/// SUBSCRIBE and UNSUBSCRIBE commands are decided and queued under one lock, and one writer per
/// connection sends them in that order, so a subscribe racing an unsubscribe of the same target
/// can never leave the server unsubscribed while a subscription lives.
final class SubscriptionRegistry: Sendable {
    private struct State {
        var entries: [UInt64: (target: RedisSubscriptionTarget, continuation: AsyncStream<RedisMessage>.Continuation)] =
            [:]
        var nextID: UInt64 = 0
        var confirmed: Set<RedisSubscriptionTarget> = []
        var subscriber: RedisConnection?
        var commands: AsyncStream<[RESPArgument]>.Continuation?
        var finished = false
    }

    private let state = NIOLockedValueBox(State())

    func add(_ target: RedisSubscriptionTarget) -> (UInt64, AsyncStream<RedisMessage>) {
        let (stream, continuation) = AsyncStream<RedisMessage>.makeStream()
        return self.state.withLockedValue { state in
            if state.finished {
                continuation.finish()
                return (0, stream)
            }
            let isNew = !state.entries.values.contains { $0.target == target }
            state.nextID += 1
            state.entries[state.nextID] = (target, continuation)
            if isNew {
                state.commands?.yield(target.subscribeCommand)
            }
            return (state.nextID, stream)
        }
    }

    /// Removes a subscription; the server subscription ends when nobody else needs the target.
    func remove(_ id: UInt64) {
        self.state.withLockedValue { state in
            guard let entry = state.entries.removeValue(forKey: id) else { return }
            entry.continuation.finish()
            guard !state.entries.values.contains(where: { $0.target == entry.target }) else { return }
            state.confirmed.remove(entry.target)
            state.commands?.yield(entry.target.unsubscribeCommand)
        }
    }

    /// Makes `connection` the subscriber: returns the commands to send on it, starting with a
    /// SUBSCRIBE for every target.
    func attach(_ connection: RedisConnection) -> AsyncStream<[RESPArgument]> {
        let (commands, continuation) = AsyncStream<[RESPArgument]>.makeStream()
        self.state.withLockedValue { state in
            state.commands?.finish()
            state.subscriber = connection
            state.commands = continuation
            state.confirmed = []
            for target in Set(state.entries.values.map(\.target)) {
                continuation.yield(target.subscribeCommand)
            }
            if state.finished {
                continuation.finish()
            }
        }
        return commands
    }

    /// The subscriber connection is gone.
    func detach() {
        self.state.withLockedValue { state in
            state.commands?.finish()
            state.commands = nil
            state.subscriber = nil
            state.confirmed = []
        }
    }

    var targets: Set<RedisSubscriptionTarget> {
        self.state.withLockedValue { Set($0.entries.values.map(\.target)) }
    }

    var confirmed: Set<RedisSubscriptionTarget> {
        self.state.withLockedValue { $0.confirmed }
    }

    /// Routes a RESP3 push: messages to their subscriptions, confirmations to `confirmed`.
    func route(_ push: RESPValue) {
        guard let parts = push.elements, let kind = parts.first?.string else { return }
        self.state.withLockedValue { state in
            switch (kind, parts.count) {
            case ("message", 3), ("smessage", 3):
                guard let channel = parts[1].string, case .bulkString(let payload?) = parts[2] else { return }
                let target: RedisSubscriptionTarget = kind == "message" ? .channel(channel) : .shardChannel(channel)
                let message = RedisMessage(channel: channel, pattern: nil, payload: payload)
                for entry in state.entries.values where entry.target == target {
                    entry.continuation.yield(message)
                }
            case ("pmessage", 4):
                guard let pattern = parts[1].string, let channel = parts[2].string,
                    case .bulkString(let payload?) = parts[3]
                else { return }
                let message = RedisMessage(channel: channel, pattern: pattern, payload: payload)
                for entry in state.entries.values where entry.target == .pattern(pattern) {
                    entry.continuation.yield(message)
                }
            case ("subscribe", _), ("psubscribe", _), ("ssubscribe", _):
                guard parts.count >= 2, let name = parts[1].string else { return }
                switch kind {
                case "subscribe": state.confirmed.insert(.channel(name))
                case "psubscribe": state.confirmed.insert(.pattern(name))
                default: state.confirmed.insert(.shardChannel(name))
                }
            default:
                return
            }
        }
    }

    var isFinished: Bool { self.state.withLockedValue { $0.finished } }

    /// Ends every subscription and closes the subscriber connection (shutdown).
    func finishAll() {
        let (continuations, subscriber) = self.state.withLockedValue { state in
            state.finished = true
            state.commands?.finish()
            defer { state.entries.removeAll() }
            return (state.entries.values.map(\.continuation), state.subscriber)
        }
        for continuation in continuations {
            continuation.finish()
        }
        subscriber?.close()
    }
}

extension RedisClient {
    /// Subscribes to `target`. Messages published before the server confirmed the subscription are
    /// not received; ``confirmedSubscriptions`` tells when it did. Needs ``run()`` to be running.
    public func subscribe(_ target: RedisSubscriptionTarget) async throws -> RedisSubscription {
        let (id, stream) = self.subscriptions.add(target)
        return RedisSubscription(id: id, target: target, messages: stream, client: self)
    }

    /// Subscriptions the server confirmed on the current subscriber connection.
    public var confirmedSubscriptions: Set<RedisSubscriptionTarget> {
        self.subscriptions.confirmed
    }

    func unsubscribe(_ subscription: RedisSubscription) async {
        self.subscriptions.remove(subscription.id)
    }

    /// Keeps the subscriber connection alive: connects, subscribes to every target, waits until the
    /// connection drops, and does it again with exponential backoff, until graceful shutdown. Each
    /// connect and each loss is reported to ``connectionEvents()``.
    public func run() async throws {
        await withGracefulShutdownHandler {
            var backoff = Duration.milliseconds(100)
            while !Task.isCancelled, !self.subscriptions.isFinished {
                do {
                    let connection = try await RedisConnection.connect(
                        self.configuration,
                        eventLoopGroup: self.eventLoopGroup,
                        onPush: { [subscriptions] push in subscriptions.route(push) }
                    )
                    let commands = self.subscriptions.attach(connection)
                    if self.subscriptions.isFinished {
                        // Shut down while connecting: finishAll could not close this connection.
                        connection.close()
                    }
                    backoff = .milliseconds(100)
                    self.connectionListeners.yield(.connected)
                    let reason = await withTaskGroup(of: Void.self) { group in
                        // One writer sends the queued (un)subscribe commands in order.
                        group.addTask {
                            for await command in commands {
                                do {
                                    try await connection.sendWithoutReply(command)
                                } catch {
                                    connection.close()
                                }
                            }
                        }
                        let reason = await withTaskCancellationHandler {
                            await connection.closed()
                        } onCancel: {
                            connection.close()
                        }
                        self.subscriptions.detach()
                        return reason
                    }
                    self.connectionListeners.yield(.disconnected)
                    if Task.isCancelled || self.subscriptions.isFinished { break }
                    self.logger.warning(
                        "Redis subscriber connection lost; reconnecting", metadata: ["error": "\(reason)"])
                } catch {
                    self.subscriptions.detach()
                    self.logger.warning(
                        "Redis subscriber connection failed", metadata: ["error": "\(error)", "retry_in": "\(backoff)"])
                }
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(10))
            }
        } onGracefulShutdown: {
            self.shutdown()
        }
    }
}
