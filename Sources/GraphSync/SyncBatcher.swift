/// Groups rows that arrive close together into one write, bounded in size and in wait.
///
/// The first row of a batch waits at most `maximumWait` for company; `maximumSize` rows flush at
/// once. One batch runs at a time and holds at most one row per user (a second row for the same
/// user waits for the next batch, so a user's events are applied in arrival order). When a batch
/// fails, each of its rows is written alone, so one bad row cannot fail its neighbours. Each
/// caller gets its own row's outcome or error, after the batch committed.
public actor SyncBatcher {
    public typealias Write = @Sendable ([UserSyncRow]) async throws -> [UserSyncOutcome]

    private struct Item {
        var id: Int
        var row: UserSyncRow
    }

    /// What a waiting caller is woken for: its result, or to write the next batch itself.
    private enum Signal {
        case done(Result<UserSyncOutcome, any Error>)
        case lead
    }

    let maximumSize: Int
    let maximumWait: Duration
    private let write: Write
    private var pending: [Item] = []
    private var nextID = 0
    private var flushing = false
    /// Rows are pending after a batch but no waiting caller could be woken to write them.
    private var leaderNeeded = false
    private var results: [Int: Result<UserSyncOutcome, any Error>] = [:]
    private var waiters: [Int: CheckedContinuation<Signal, Never>] = [:]
    /// Batches written, and rows written alone after a batch failed (for tests and metrics).
    public private(set) var batchesWritten = 0
    public private(set) var fallbackRows = 0

    /// How the first row of a batch waits for company (a sleep; tests decide when it ends).
    private let wait: @Sendable (Duration) async -> Void

    public init(maximumSize: Int, maximumWait: Duration, write: @escaping Write) {
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
    public func submit(_ row: UserSyncRow) async throws -> UserSyncOutcome {
        let id = self.nextID
        self.nextID += 1
        self.pending.append(Item(id: id, row: row))
        if self.pending.count >= self.maximumSize {
            await self.flushOne()
        } else if self.pending.count == 1, !self.flushing {
            // The first row of a batch waits for company, then writes whatever is there.
            await self.wait(self.maximumWait)
            await self.flushOne()
        }
        while true {
            if let result = self.results.removeValue(forKey: id) {
                return try result.get()
            }
            if self.leaderNeeded, !self.flushing {
                self.leaderNeeded = false
                await self.flushOne()
                continue
            }
            switch await withCheckedContinuation({ self.waiters[id] = $0 }) {
            case .done(let result): return try result.get()
            case .lead: await self.flushOne()
            }
        }
    }

    /// Writes one batch (one at a time), then hands the next one to a waiting caller.
    private func flushOne() async {
        guard !self.flushing, !self.pending.isEmpty else { return }
        self.flushing = true
        var batch: [Item] = []
        var users: Set<String> = []
        var rest: [Item] = []
        for item in self.pending {
            if batch.count < self.maximumSize, users.insert(item.row.userID).inserted {
                batch.append(item)
            } else {
                rest.append(item)
            }
        }
        self.pending = rest
        await self.run(batch)
        self.flushing = false
        guard !self.pending.isEmpty else { return }
        if let next = self.pending.first(where: { self.waiters[$0.id] != nil }),
            let waiter = self.waiters.removeValue(forKey: next.id)
        {
            waiter.resume(returning: .lead)
        } else {
            self.leaderNeeded = true
        }
    }

    private func run(_ batch: [Item]) async {
        do {
            let outcomes = try await self.write(batch.map(\.row))
            guard outcomes.count == batch.count else { throw SyncBatchMismatch() }
            self.batchesWritten += 1
            for (item, outcome) in zip(batch, outcomes) {
                self.finish(item.id, .success(outcome))
            }
        } catch {
            guard batch.count > 1 else {
                self.finish(batch[0].id, .failure(error))
                return
            }
            for item in batch {
                self.fallbackRows += 1
                do {
                    guard let outcome = try await self.write([item.row]).first else { throw SyncBatchMismatch() }
                    self.finish(item.id, .success(outcome))
                } catch {
                    self.finish(item.id, .failure(error))
                }
            }
        }
    }

    private func finish(_ id: Int, _ result: Result<UserSyncOutcome, any Error>) {
        if let waiter = self.waiters.removeValue(forKey: id) {
            waiter.resume(returning: .done(result))
        } else {
            self.results[id] = result
        }
    }
}

/// The writer returned a different number of outcomes than rows.
struct SyncBatchMismatch: Error, CustomStringConvertible {
    var description: String { "the graph write returned a different number of outcomes than rows" }
}
