import Foundation

/// A redis-server of the test's own, on its own port and data folder, that the test may stop and
/// start at will without disturbing the stack's shared Redis. No persistence: a restart starts
/// empty, as a restarted cache does, unless the test saved the data (``saveAndStop()``).
struct ThrowawayRedis {
    let port: Int
    let directory: String

    var uri: String { "redis://127.0.0.1:\(self.port)" }

    /// Starts a server on a free port from a range the stack does not use.
    static func start() async throws -> ThrowawayRedis {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("decode-async-redis-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var lastError: (any Error)?
        for _ in 0..<5 {
            let redis = ThrowawayRedis(port: Int.random(in: 26_400...26_999), directory: directory)
            do {
                try await redis.startServer()
                return redis
            } catch {
                lastError = error
            }
        }
        throw lastError ?? TestEnvironment.CommandFailed(command: "redis-server", output: "no free port")
    }

    /// Starts (again) and waits until it answers PING. A daemonized redis-server exits 0 even when
    /// its port is taken, and another test's server may answer there: so the server that answers
    /// must be this one (its `dir` is this folder), and a bind failure in the log ends the wait.
    func startServer() async throws {
        let log = "\(self.directory)/redis.log"
        try? FileManager.default.removeItem(atPath: log)
        try await TestEnvironment.run([
            "redis-server", "--bind", "127.0.0.1", "--port", String(self.port), "--dir", self.directory,
            "--save", "", "--appendonly", "no", "--daemonize", "yes",
            "--pidfile", "\(self.directory)/redis.pid", "--logfile", log,
        ])
        try await eventually("redis-server on \(self.port) answers") {
            if let text = try? String(contentsOfFile: log, encoding: .utf8), text.contains("Address already in use") {
                throw TestEnvironment.CommandFailed(command: "redis-server", output: "port \(self.port) is taken")
            }
            let answer = try? await TestEnvironment.run(
                ["redis-cli", "-p", String(self.port), "config", "get", "dir"], timeout: .seconds(5))
            let ours = [self.directory, URL(fileURLWithPath: self.directory).resolvingSymlinksInPath().path]
            return answer?.split(separator: "\n").contains { ours.contains(String($0)) } == true
        }
    }

    /// Stops the server without saving; waits until its port is closed.
    func stopServer() async throws {
        _ = try? await TestEnvironment.run(["redis-cli", "-p", String(self.port), "shutdown", "nosave"])
        try await eventually("redis-server on \(self.port) stopped") {
            (try? await TestEnvironment.run(["redis-cli", "-p", String(self.port), "ping"], timeout: .seconds(5)))
                == nil
        }
    }

    /// Writes the data to the folder (loaded at the next start), then stops the server.
    func saveAndStop() async throws {
        try await TestEnvironment.run(["redis-cli", "-p", String(self.port), "save"])
        try await self.stopServer()
    }

    /// Stops the server for good and removes its folder.
    func remove() async {
        _ = try? await TestEnvironment.run(["redis-cli", "-p", String(self.port), "shutdown", "nosave"])
        try? FileManager.default.removeItem(atPath: self.directory)
    }
}
