import BoltClient
import Logging
import Messaging
import ServiceLifecycle
import Synchronization
import Testing

@testable import GraphSync

@Suite struct SyncBatcherTests {
    private func row(_ id: String, _ name: String = "n") -> UserSyncRow {
        UserSyncRow(userID: id, operation: .update, properties: ["username": name], sourceUpdatedAt: nil)
    }

    /// Records every write and fails those containing a poisoned user.
    final class Recorder: Sendable {
        let writes = Mutex<[[String]]>([])
        let poisoned: String?
        init(poisoned: String? = nil) { self.poisoned = poisoned }

        func write(_ rows: [UserSyncRow]) throws -> [UserSyncOutcome] {
            self.writes.withLock { $0.append(rows.map(\.userID)) }
            if let poisoned, rows.contains(where: { $0.userID == poisoned }) {
                throw BoltError(.server, code: "Neo.ClientError.Statement.TypeError", "bad row")
            }
            return rows.map { _ in .updated }
        }
    }

    /// The first row's wait for company, ended by the test (not by a clock), or by the batcher
    /// cancelling it once the batch is full.
    final class Gate: Sendable {
        private struct State {
            var open = false
            var next = 0
            var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
            var cancelled: Set<Int> = []
        }
        private let state = Mutex(State())

        func wait(_: Duration) async {
            let id = self.state.withLock { state in
                state.next += 1
                return state.next
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = self.state.withLock { state -> Bool in
                        if state.open || state.cancelled.contains(id) { return true }
                        state.waiters[id] = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                let waiter = self.state.withLock { state in
                    state.cancelled.insert(id)
                    return state.waiters.removeValue(forKey: id)
                }
                waiter?.resume()
            }
        }

        func open() {
            let waiters = self.state.withLock { state in
                state.open = true
                defer { state.waiters = [:] }
                return Array(state.waiters.values)
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    /// Runs `body` while the batcher's loop runs (as the service group runs it), then cancels it.
    private func running<T: Sendable>(_ batcher: SyncBatcher, _ body: () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await batcher.run() }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    /// Yields until `condition` holds; throws after 30 s so that a batcher that never gets there
    /// fails the test instead of hanging it.
    private func until(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw NeverHappened() }
            await Task.yield()
        }
    }

    struct NeverHappened: Error {}

    /// Yields until the recorder saw `count` writes (the batcher works on its own tasks); gives up
    /// after 30 s so that a batcher that never writes fails the test's checks instead of hanging it.
    private func writes(_ recorder: Recorder, reach count: Int) async {
        let deadline = ContinuousClock.now + .seconds(30)
        while recorder.writes.withLock({ $0.count }) < count, ContinuousClock.now < deadline {
            await Task.yield()
        }
    }

    @Test func concurrentSubmissionsShareOneWrite() async throws {
        let recorder = Recorder()
        let gate = Gate()
        let batcher = SyncBatcher(maximumSize: 10, maximumWait: .seconds(1), wait: gate.wait) {
            try recorder.write($0)
        }
        try await self.running(batcher) {
            try await withThrowingTaskGroup(of: UserSyncOutcome.self) { group in
                for i in 0..<10 {
                    group.addTask { try await batcher.submit(self.row("u\(i)")) }
                }
                // The first row waits for company for as long as the gate is shut: the tenth row fills
                // the batch, whatever the machine's load.
                await self.writes(recorder, reach: 1)
                gate.open()
                for try await outcome in group { #expect(outcome == .updated) }
            }
        }
        // The tenth row filled the batch: one write.
        #expect(recorder.writes.withLock { $0.count } == 1)
        #expect(recorder.writes.withLock { $0.first?.count } == 10)
    }

    @Test func aLoneRowIsWrittenAfterTheWait() async throws {
        let recorder = Recorder()
        // The wait for company ends at once: the lone row is written alone.
        let batcher = SyncBatcher(
            maximumSize: 10, maximumWait: .seconds(60), wait: { _ in }, write: { try recorder.write($0) })
        let outcome = try await self.running(batcher) { try await batcher.submit(self.row("solo")) }
        #expect(outcome == .updated)
        #expect(recorder.writes.withLock { $0 } == [["solo"]])
    }

    @Test func aBatchHoldsOneRowPerUser() async throws {
        let recorder = Recorder()
        let gate = Gate()
        let batcher = SyncBatcher(maximumSize: 4, maximumWait: .seconds(1), wait: gate.wait) {
            try recorder.write($0)
        }
        try await self.running(batcher) {
            try await withThrowingTaskGroup(of: UserSyncOutcome.self) { group in
                for id in ["a", "a", "b", "c"] {
                    group.addTask { try await batcher.submit(self.row(id)) }
                }
                await self.writes(recorder, reach: 2)
                gate.open()
                for try await _ in group {}
            }
        }
        let writes = recorder.writes.withLock { $0 }
        #expect(writes.count == 2)
        for write in writes { #expect(Set(write).count == write.count) }
        #expect(writes.flatMap { $0 }.sorted() == ["a", "a", "b", "c"])
    }

    @Test func aFailingBatchFallsBackToOneWritePerRow() async throws {
        let recorder = Recorder(poisoned: "bad")
        let gate = Gate()
        let batcher = SyncBatcher(maximumSize: 3, maximumWait: .seconds(1), wait: gate.wait) {
            try recorder.write($0)
        }
        let results = try await self.running(batcher) {
            await withTaskGroup(of: (String, Bool).self) { group in
                for id in ["good1", "bad", "good2"] {
                    group.addTask { (id, (try? await batcher.submit(self.row(id))) != nil) }
                }
                await self.writes(recorder, reach: 4)
                gate.open()
                var results: [String: Bool] = [:]
                for await (id, ok) in group { results[id] = ok }
                return results
            }
        }
        #expect(results == ["good1": true, "bad": false, "good2": true])
        #expect(recorder.writes.withLock { $0.count } == 4)
        #expect(batcher.fallbackRows == 3)
    }

    /// At graceful shutdown the loop writes what is pending without waiting out the wait for
    /// company, then ends; a row submitted afterwards is refused, not left waiting.
    @Test func gracefulShutdownWritesWhatIsPendingThenRefuses() async throws {
        let recorder = Recorder()
        let gate = Gate()  // never opened: only the shutdown ends the wait
        let batcher = SyncBatcher(maximumSize: 10, maximumWait: .seconds(60), wait: gate.wait) {
            try recorder.write($0)
        }
        let group = ServiceGroup(configuration: .init(services: [batcher], logger: Logger(label: "test.batcher")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await self.until { batcher.isWaitingForRows }
            let pending = Task { try await batcher.submit(self.row("last")) }
            // The row waits for company behind the shut gate.
            try await self.until { batcher.pendingCount == 1 && !batcher.isWaitingForRows }
            await group.triggerGracefulShutdown()
            #expect(try await pending.value == .updated)
            try await tasks.waitForAll()
        }
        #expect(recorder.writes.withLock { $0 } == [["last"]])
        await #expect(throws: SyncBatcherStopped.self) { try await batcher.submit(self.row("late")) }
    }

    /// Cancelled, the loop ends at once: a row still waiting for company fails, unwritten.
    @Test func cancellationFailsWhatIsPending() async throws {
        let recorder = Recorder()
        let gate = Gate()
        let batcher = SyncBatcher(maximumSize: 10, maximumWait: .seconds(60), wait: gate.wait) {
            try recorder.write($0)
        }
        let loop = Task { await batcher.run() }
        try await self.until { batcher.isWaitingForRows }
        let pending = Task { try await batcher.submit(self.row("unwritten")) }
        try await self.until { batcher.pendingCount == 1 && !batcher.isWaitingForRows }
        loop.cancel()
        await #expect(throws: CancellationError.self) { try await pending.value }
        await loop.value
        #expect(recorder.writes.withLock { $0 }.isEmpty)
    }

    @Test func classifiesNeo4jErrorsForTheConsumer() {
        let transient = UserSyncService.classify(
            BoltError(.server, code: "Neo.TransientError.Transaction.DeadlockDetected", "x"))
        #expect(transient.disposition == .transient)
        let race = UserSyncService.classify(
            BoltError(.server, code: "Neo.ClientError.Schema.ConstraintValidationFailed", "x"))
        #expect(race.disposition == .transient)
        let permanent = UserSyncService.classify(BoltError(.server, code: "Neo.ClientError.Statement.TypeError", "x"))
        #expect(permanent.disposition == .permanent)
        #expect(permanent.reason.contains("Neo.ClientError.Statement.TypeError"))
        #expect(UserSyncService.classify(BoltError(.connectionFailed, "down")).disposition == .transient)
    }
}
