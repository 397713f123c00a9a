import ServiceLifecycle
import Synchronization

/// Groups rows that arrive close together into one write, bounded in size and in wait.
///
/// One loop, ``run()``, writes the batches; callers ``submit(_:)`` a row and wait for its outcome.
/// When the loop finds nothing pending it waits for a row; that first row then waits at most
/// `maximumWait` for company (less once `maximumSize` rows are pending); rows that arrive while a
/// batch is written form the next one at once. A batch holds at most one row per user (a second row
/// for the same user waits for the next batch, so a user's events are applied in arrival order).
/// When a batch fails, each of its rows is written alone, so one bad row cannot fail its neighbours.
///
/// At graceful shutdown the loop writes what is pending and ends (run it before the consumer that
/// submits, so that the consumer stops first); cancelled, it ends at once and pending rows fail
/// with `CancellationError`. Rows submitted after the loop ended fail with ``SyncBatcherStopped``.
public final class SyncBatcher: Service, Sendable {
    public typealias Write = @Sendable ([UserSyncRow]) async throws -> [UserSyncOutcome]

    private struct Submission: Sendable {
        var row: UserSyncRow
        var reply: CheckedContinuation<UserSyncOutcome, any Error>
    }

    private struct State: Sendable {
        var pending: [Submission] = []
        /// The loop waits for a row.
        var rowWaiter: CheckedContinuation<Void, Never>?
        /// The loop waits for company for the first row of a batch.
        var companyWaiter: CheckedContinuation<Void, Never>?
        var companyWaitEnded = false
        /// Graceful shutdown: write what is pending, then end.
        var draining = false
        var cancelled = false
        var ended = false
        var batchesWritten = 0
        var fallbackRows = 0

        /// Wakes whichever wait of the loop is pending.
        mutating func wakeLoop() -> [CheckedContinuation<Void, Never>] {
            defer {
                self.rowWaiter = nil
                self.companyWaiter = nil
            }
            return [self.rowWaiter, self.companyWaiter].compactMap { $0 }
        }
    }

    let maximumSize: Int
    let maximumWait: Duration
    private let write: Write
    private let state = Mutex(State())

    /// How the first row of a batch waits for company (a cancellable sleep; tests decide when it ends).
    private let wait: @Sendable (Duration) async -> Void

    /// Batches written, and rows written alone after a batch failed (for tests and metrics).
    public var batchesWritten: Int { self.state.withLock { $0.batchesWritten } }
    public var fallbackRows: Int { self.state.withLock { $0.fallbackRows } }
    /// Rows submitted and not yet taken into a batch.
    var pendingCount: Int { self.state.withLock { $0.pending.count } }
    /// The loop found nothing pending and waits for a row.
    var isWaitingForRows: Bool { self.state.withLock { $0.rowWaiter != nil } }

    public convenience init(maximumSize: Int, maximumWait: Duration, write: @escaping Write) {
        self.init(
            maximumSize: maximumSize, maximumWait: maximumWait, wait: { try? await Task.sleep(for: $0) }, write: write)
    }

    init(
        maximumSize: Int, maximumWait: Duration, wait: @escaping @Sendable (Duration) async -> Void,
        write: @escaping Write
    ) {
        self.maximumSize = max(1, maximumSize)
        self.maximumWait = maximumWait
        self.wait = wait
        self.write = write
    }

    /// Queues `row` and returns once the batch holding it committed (or failed).
    ///
    /// - Throws: the write's error, ``SyncBatcherStopped`` once the loop ended, or
    ///   `CancellationError` when the loop was cancelled before writing the row.
    public func submit(_ row: UserSyncRow) async throws -> UserSyncOutcome {
        try await withCheckedThrowingContinuation { reply in
            let woken = self.state.withLock { state -> [CheckedContinuation<Void, Never>]? in
                guard !state.ended, !state.cancelled else { return nil }
                state.pending.append(Submission(row: row, reply: reply))
                if state.rowWaiter != nil || state.pending.count >= self.maximumSize {
                    return state.wakeLoop()
                }
                return []
            }
            guard let woken else {
                reply.resume(throwing: SyncBatcherStopped())
                return
            }
            for loop in woken { loop.resume() }
        }
    }

    /// Writes batches until graceful shutdown (then what is pending first) or cancellation.
    public func run() async {
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await self.loop()
            } onGracefulShutdown: {
                let woken = self.state.withLock { state in
                    state.draining = true
                    return state.wakeLoop()
                }
                for loop in woken { loop.resume() }
            }
        } onCancel: {
            let woken = self.state.withLock { state in
                state.cancelled = true
                return state.wakeLoop()
            }
            for loop in woken { loop.resume() }
        }
        let unwritten = self.state.withLock { state in
            state.ended = true
            defer { state.pending = [] }
            return state.pending
        }
        for submission in unwritten {
            submission.reply.resume(throwing: CancellationError())
        }
    }

    private func loop() async {
        while true {
            var waited = false
            // A row to write, or the end.
            while true {
                let next = self.state.withLock { state -> Bool? in
                    if state.cancelled { return nil }
                    if !state.pending.isEmpty { return true }
                    if state.draining { return nil }
                    return false
                }
                guard let next else { return }
                if next { break }
                waited = true
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = self.state.withLock { state -> Bool in
                        if state.cancelled || state.draining || !state.pending.isEmpty { return true }
                        state.rowWaiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
            if waited {
                await self.waitForCompany()
            }
            guard let batch = self.takeBatch() else { return }
            await self.run(batch)
        }
    }

    /// The first row of a batch waits `maximumWait` for company, less once the batch is full.
    private func waitForCompany() async {
        let full = self.state.withLock { state in
            state.companyWaitEnded = false
            return state.pending.count >= self.maximumSize || state.draining || state.cancelled
        }
        guard !full else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await self.wait(self.maximumWait)
                let woken = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
                    state.companyWaitEnded = true
                    defer { state.companyWaiter = nil }
                    return state.companyWaiter
                }
                woken?.resume()
            }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = self.state.withLock { state -> Bool in
                    if state.companyWaitEnded || state.pending.count >= self.maximumSize || state.draining
                        || state.cancelled
                    {
                        return true
                    }
                    state.companyWaiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
            group.cancelAll()
        }
    }

    /// The oldest pending rows, at most `maximumSize` and one per user; nil once cancelled.
    private func takeBatch() -> [Submission]? {
        self.state.withLock { state -> [Submission]? in
            guard !state.cancelled else { return nil }
            var batch: [Submission] = []
            var users: Set<String> = []
            var rest: [Submission] = []
            for submission in state.pending {
                if batch.count < self.maximumSize, users.insert(submission.row.userID).inserted {
                    batch.append(submission)
                } else {
                    rest.append(submission)
                }
            }
            state.pending = rest
            return batch
        }
    }

    private func run(_ batch: [Submission]) async {
        do {
            let outcomes = try await self.write(batch.map(\.row))
            guard outcomes.count == batch.count else { throw SyncBatchMismatch() }
            self.state.withLock { $0.batchesWritten += 1 }
            for (submission, outcome) in zip(batch, outcomes) {
                submission.reply.resume(returning: outcome)
            }
        } catch {
            guard batch.count > 1 else {
                batch[0].reply.resume(throwing: error)
                return
            }
            for submission in batch {
                self.state.withLock { $0.fallbackRows += 1 }
                do {
                    guard let outcome = try await self.write([submission.row]).first else { throw SyncBatchMismatch() }
                    submission.reply.resume(returning: outcome)
                } catch {
                    submission.reply.resume(throwing: error)
                }
            }
        }
    }
}

/// A row was submitted after the batcher's loop ended.
public struct SyncBatcherStopped: Error, CustomStringConvertible {
    public var description: String { "the graph sync batcher has stopped" }
}

/// The writer returned a different number of outcomes than rows.
struct SyncBatchMismatch: Error, CustomStringConvertible {
    var description: String { "the graph write returned a different number of outcomes than rows" }
}
