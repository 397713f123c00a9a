import BoltClient
import Messaging
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

    /// The first row's wait for company, ended by the test (not by a clock).
    final class Gate: Sendable {
        private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

        func wait(_: Duration) async {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = self.state.withLock { state -> Bool in
                    if state.open { return true }
                    state.waiters.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }

        func open() {
            let waiters = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.open = true
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

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
        // The tenth row filled the batch: one write.
        #expect(recorder.writes.withLock { $0.count } == 1)
        #expect(recorder.writes.withLock { $0.first?.count } == 10)
    }

    @Test func aLoneRowIsWrittenAfterTheWait() async throws {
        let recorder = Recorder()
        // The wait for company ends at once: the lone row is written alone.
        let batcher = SyncBatcher(
            maximumSize: 10, maximumWait: .seconds(60), wait: { _ in }, write: { try recorder.write($0) })
        #expect(try await batcher.submit(self.row("solo")) == .updated)
        #expect(recorder.writes.withLock { $0 } == [["solo"]])
    }

    @Test func aBatchHoldsOneRowPerUser() async throws {
        let recorder = Recorder()
        let gate = Gate()
        let batcher = SyncBatcher(maximumSize: 4, maximumWait: .seconds(1), wait: gate.wait) {
            try recorder.write($0)
        }
        try await withThrowingTaskGroup(of: UserSyncOutcome.self) { group in
            for id in ["a", "a", "b", "c"] {
                group.addTask { try await batcher.submit(self.row(id)) }
            }
            await self.writes(recorder, reach: 2)
            gate.open()
            for try await _ in group {}
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
        let results = await withTaskGroup(of: (String, Bool).self) { group in
            for id in ["good1", "bad", "good2"] {
                group.addTask { (id, (try? await batcher.submit(self.row(id))) != nil) }
            }
            await self.writes(recorder, reach: 4)
            gate.open()
            var results: [String: Bool] = [:]
            for await (id, ok) in group { results[id] = ok }
            return results
        }
        #expect(results == ["good1": true, "bad": false, "good2": true])
        #expect(recorder.writes.withLock { $0.count } == 4)
        #expect(await batcher.fallbackRows == 3)
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
