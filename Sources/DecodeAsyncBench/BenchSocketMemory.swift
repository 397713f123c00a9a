import Foundation
import NIOConcurrencyHelpers
import SocketIO

/// `bench socketio --memory`: the server's resident memory per idle WebSocket connection, with the
/// clients held by other processes (`scripts/socketio_hold_clients.py`), for this gateway, then for
/// a baseline build of it when one is given, then for python-socketio
/// (`scripts/bench_socketio_python.py --serve`) with the same clients.
enum BenchSocketMemory {
    static func run(clients: Int, processes: Int, python: String, baseline: String?) async throws {
        Self.raiseFileLimit()
        let secret = UUID().uuidString
        try await BenchService.run(flow: nil, secret: secret) { service, _ in
            let before = Self.residentBytes(pid: nil)
            let heapBefore = Self.heapInUse()
            let holder = try HeldProcess(
                python,
                [
                    "scripts/socketio_hold_clients.py", "--url", service.url, "--clients", "\(clients)",
                    "--processes", "\(processes)",
                ], secret: secret)
            try await holder.expect("held")
            // Idle: let the connect work settle before measuring.
            try await Task.sleep(for: .seconds(3))
            let after = Self.residentBytes(pid: nil)
            let heapAfter = Self.heapInUse()
            Self.report(
                "decode-async", clients: clients, before: before, after: after,
                sockets: service.server?.localSocketCount ?? 0
            )
            if let heapBefore, let heapAfter {
                print(
                    String(
                        format: "decode-async     malloc in use per idle WebSocket %8.1f KB (glibc malloc_stats)",
                        Double(heapAfter - heapBefore) / Double(clients) / 1000))
            }
            holder.stop()
        }
        if let baseline {
            try await Self.runBaseline(baseline, clients: clients, processes: processes, python: python)
        }
        let pythonServer = try HeldProcess(python, ["scripts/bench_socketio_python.py", "--serve"], secret: secret)
        let port = try await pythonServer.expect("port")
        let before = Self.residentBytes(pid: pythonServer.pid)
        let holder = try HeldProcess(
            python,
            [
                "scripts/socketio_hold_clients.py", "--url", "http://127.0.0.1:\(port)", "--clients",
                "\(clients)", "--processes", "\(processes)",
            ], secret: secret)
        try await holder.expect("held")
        try await Task.sleep(for: .seconds(3))
        let after = Self.residentBytes(pid: pythonServer.pid)
        Self.report("python-socketio", clients: clients, before: before, after: after, sockets: clients)
        holder.stop()
        pythonServer.stop()
    }

    /// Runs `binary socketio --memory` (`binary bench socketio --memory` for a `decode-async` from
    /// before the benchmarks left it) with the same clients and prints its two decode-async lines as
    /// "baseline"; it is stopped once it printed them (its python-socketio run would only repeat
    /// this one's).
    private static func runBaseline(_ binary: String, clients: Int, processes: Int, python: String) async throws {
        let command = Self.isBenchProgram(binary) ? ["socketio"] : ["bench", "socketio"]
        let process = try HeldProcess(
            binary,
            command + [
                "--memory", "--clients", "\(clients)", "--processes", "\(processes)", "--python", python,
            ], secret: "")
        for _ in 0..<2 {
            let line = try await process.expect("decode-async")
            print("baseline".padding(toLength: 16, withPad: " ", startingAt: 0) + " " + line.drop { $0 == " " })
        }
        process.terminate()
    }

    /// Whether `binary` is a `decode-async-bench` (its help names it), not a `decode-async` from
    /// before the benchmarks left it. (Asking for a subcommand's help does not tell: the argument
    /// parser answers the root's help, with status 0, for a subcommand it does not know.)
    static func isBenchProgram(_ binary: String) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--help"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        let help = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: help, as: UTF8.self).contains("USAGE: decode-async-bench")
    }

    private static func report(_ name: String, clients: Int, before: Int, after: Int, sockets: Int) {
        print(
            name.padding(toLength: 16, withPad: " ", startingAt: 0)
                + String(
                    format:
                        " server RSS per idle WebSocket  %8.1f KB (%d sockets held by other processes; %.1f MB before, %.1f MB after)",
                    Double(after - before) / Double(clients) / 1000, sockets, Double(before) / 1e6, Double(after) / 1e6)
        )
    }

    /// VmRSS of `pid` (nil: this process), in bytes.
    static func residentBytes(pid: Int32?) -> Int {
        let path = "/proc/\(pid.map(String.init) ?? "self")/status"
        guard let status = try? String(contentsOfFile: path, encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return 0 }
        return kilobytes * 1024
    }

    /// Bytes in use in glibc's malloc (all arenas and mmap), from `malloc_stats()`, which prints
    /// to standard error: it is pointed at a temporary file for the call.
    static func heapInUse() -> Int? {
        guard let symbol = dlsym(nil, "malloc_stats") else { return nil }
        let mallocStats = unsafeBitCast(symbol, to: (@convention(c) () -> Void).self)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("malloc-stats-\(getpid())").path
        let file = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard file >= 0 else { return nil }
        defer { unlink(path) }
        let saved = dup(2)
        dup2(file, 2)
        mallocStats()
        fflush(nil)  // every stream: stderr may be buffered
        dup2(saved, 2)
        close(saved)
        close(file)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let total = text.range(of: "Total (incl. mmap):"),
            let line = text[total.upperBound...].split(separator: "\n").first(where: { $0.contains("in use bytes") }),
            let bytes = line.split(separator: " ").last.flatMap({ Int($0) })
        else { return nil }
        return bytes
    }

    /// Each held socket is a file descriptor here.
    private static func raiseFileLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}

/// A Python helper process: its standard output is read line by line; closing its standard input
/// tells it to stop. The token secret goes in its environment, never on its command line.
private final class HeldProcess: @unchecked Sendable {
    private let process: Process
    private let input: Pipe
    private let output: Pipe
    /// Output read but not yet consumed by ``expect(_:)``.
    private let pending = NIOLockedValueBox(Data())

    var pid: Int32 { self.process.processIdentifier }

    init(_ python: String, _ arguments: [String], secret: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["BENCH_TOKEN_SECRET"] = secret
        process.environment = environment
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        self.process = process
        self.input = input
        self.output = output
    }

    /// Waits for a line `<word> <value>` and returns the value; a `failed` line or the end is an error.
    /// Lines after it stay for the next call.
    @discardableResult
    func expect(_ word: String) async throws -> String {
        let handle = self.output.fileHandleForReading
        let pending = self.pending
        return try await Task.detached {
            var buffer = pending.withLockedValue { $0 }
            defer { pending.withLockedValue { $0 = buffer } }
            while true {
                while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                    buffer.removeSubrange(buffer.startIndex...newline)
                    let fields = line.split(separator: " ", maxSplits: 1)
                    if fields.first.map(String.init) == word { return fields.count > 1 ? String(fields[1]) : "" }
                    if fields.first == "failed" { throw BenchSocketMemoryError.helperFailed(line) }
                }
                let chunk = handle.availableData
                if chunk.isEmpty { throw BenchSocketMemoryError.helperEnded(word) }
                buffer.append(chunk)
            }
        }.value
    }

    func stop() {
        try? self.input.fileHandleForWriting.close()
        self.process.waitUntilExit()
    }

    /// Stops a process that does not read its standard input (SIGKILL: a bench may have blocked
    /// SIGTERM); its own helpers see their standard input end with it.
    func terminate() {
        kill(self.process.processIdentifier, SIGKILL)
        self.process.waitUntilExit()
    }
}

enum BenchSocketMemoryError: Error {
    case helperEnded(String)
    case helperFailed(String)
}
