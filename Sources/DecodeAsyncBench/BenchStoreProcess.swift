import Foundation

/// The MongoDB server process on this machine (SecantusDB, a Python process), whose CPU time the
/// notification benchmarks report beside their own: it shows what bounds a run.
struct BenchStoreProcess {
    let pid: Int32

    /// The given pid; else the one in the stack's `.stack/secantusdb.pid`; else the first process
    /// whose command line names `secantusd`. Nil when none is found (the figure is then left out).
    static func find(pid: Int32?) -> BenchStoreProcess? {
        if let pid { return BenchStoreProcess(pid: pid) }
        if let text = try? String(contentsOfFile: ".stack/secantusdb.pid", encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)),
            Self.commandLine(pid).contains("secantusd")
        {
            return BenchStoreProcess(pid: pid)
        }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        let own = getpid()
        for entry in entries {
            guard let pid = Int32(entry), pid != own, Self.commandLine(pid).contains("secantusd-py") else { continue }
            return BenchStoreProcess(pid: pid)
        }
        return nil
    }

    /// User plus system CPU seconds of the process so far (`/proc/<pid>/stat` utime + stime over
    /// `CLK_TCK`); nil once it is gone.
    func cpuSeconds() -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(self.pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm)": field 3 (state) is index 0, so utime (14) and stime (15) are 11 and 12.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    private static func commandLine(_ pid: Int32) -> String {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return "" }
        return String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
    }
}

/// CPU seconds of the store and of this process between `start` and `stop`, with the rate each
/// spent while idle just before, so a reader sees whether someone else used the store meanwhile.
struct BenchCPU {
    let store: BenchStoreProcess?
    private var storeStart: Double?
    private var ownStart = 0.0
    private(set) var storeIdlePerSecond: Double?
    private(set) var ownIdlePerSecond = 0.0

    init(store: BenchStoreProcess?) {
        self.store = store
    }

    /// Waits (at most 20 s) until the store has spent under 30 ms/s for a second (the work
    /// that connecting clients caused, such as the replay of undelivered notifications, is done),
    /// measures the idle rates over `idle`, then starts counting.
    mutating func start(afterIdle idle: Duration) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline, let before = self.store?.cpuSeconds() {
            try await Task.sleep(for: .seconds(1))
            guard let after = self.store?.cpuSeconds(), after - before >= 0.03 else { break }
        }
        let storeBefore = self.store?.cpuSeconds()
        let ownBefore = DecodeAsyncBench.Mongo.cpuSeconds()
        try await Task.sleep(for: idle)
        let seconds = BenchReport.seconds(idle)
        self.storeStart = self.store?.cpuSeconds()
        self.ownStart = DecodeAsyncBench.Mongo.cpuSeconds()
        if let storeBefore, let storeStart {
            self.storeIdlePerSecond = (storeStart - storeBefore) / seconds
        }
        self.ownIdlePerSecond = (self.ownStart - ownBefore) / seconds
    }

    /// The store's CPU seconds since ``start(afterIdle:)``; nil without a store process.
    func storeSeconds() -> Double? {
        guard let storeStart, let now = self.store?.cpuSeconds() else { return nil }
        return now - storeStart
    }

    /// This process's CPU seconds since ``start(afterIdle:)``, its idle rate taken off.
    func ownSeconds(over elapsed: Duration) -> Double {
        max(
            0,
            DecodeAsyncBench.Mongo.cpuSeconds() - self.ownStart - self.ownIdlePerSecond * BenchReport.seconds(elapsed))
    }

    /// The store's CPU seconds since ``start(afterIdle:)`` up to when it settled: the first half
    /// second in which it spent under 15 ms (at most 20 s on), so that what the flow writes after
    /// the last receipt (its delivery records, the last unread counts) is counted too.
    func settledStoreSeconds() async throws -> Double? {
        let deadline = ContinuousClock.now + .seconds(20)
        while let before = self.storeSeconds() {
            try await Task.sleep(for: .milliseconds(500))
            guard let after = self.storeSeconds() else { return nil }
            if after - before < 0.015 || ContinuousClock.now > deadline { return before }
        }
        return nil
    }

    /// `store cpu per 1,000 notifications` in the benchmarks' line format, once the store settled
    /// (``settledStoreSeconds()``).
    func printStore(per count: Int) async throws {
        guard let store, let seconds = try await self.settledStoreSeconds() else {
            BenchReport.print("store cpu per 1,000", detail: "     n/a (no SecantusDB process found)")
            return
        }
        BenchReport.print(
            "store cpu per 1,000",
            detail: String(
                format: "%8.0f ms   (%.2f s in all; pid %d; %.0f ms/s idle before the run)",
                seconds / Double(max(count, 1)) * 1e6, seconds, store.pid, (self.storeIdlePerSecond ?? 0) * 1000))
    }
}
