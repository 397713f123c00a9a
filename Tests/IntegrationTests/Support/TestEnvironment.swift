import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Addresses of the local stack (`scripts/stack env`), with the stack's defaults.
enum TestEnvironment {
    static var rabbitMQURI: String {
        ProcessInfo.processInfo.environment["RABBITMQ_URI"] ?? "amqp://guest:guest@127.0.0.1:5672"
    }

    /// The repository root (where `scripts/` lives).
    static var repositoryRoot: URL {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 {
            url.deleteLastPathComponent()
        }
        return url
    }

    /// A name no other test run uses.
    static func uniqueName(_ prefix: String) -> String {
        "\(prefix).\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Runs a command from the repository root and returns its output (standard output and error).
    ///
    /// Spawned with `posix_spawn` and reaped with a non-blocking `waitpid` polled between short
    /// sleeps, so no thread of the concurrency pool ever blocks (there are only as many as cores);
    /// servers the command starts in the background inherit its output file and do not keep the
    /// caller waiting. A command still running after `timeout` is killed and fails the call.
    @discardableResult
    static func run(_ arguments: [String], timeout: Duration = .seconds(120)) async throws -> String {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("decode-async-\(UUID()).out")
            .path
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let script = "cd \"$0\" && exec \"$@\" </dev/null >\"$DECODE_ASYNC_TEST_OUTPUT\" 2>&1"
        // Only stdin/stdout/stderr reach the command: servers it starts in the background (RabbitMQ
        // after `scripts/stack up`) must not keep this process's sockets and pipes open.
        Self.markDescriptorsCloseOnExec()
        let argv = ["/bin/sh", "-c", script, self.repositoryRoot.path] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["DECODE_ASYNC_TEST_OUTPUT"] = outputPath
        let cArguments = argv.map { strdup($0) } + [nil]
        let cEnvironment = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in cArguments + cEnvironment {
                free(pointer)
            }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", nil, nil, cArguments, cEnvironment)
        guard spawned == 0 else {
            throw CommandFailed(command: arguments.joined(separator: " "), output: "posix_spawn failed: \(spawned)")
        }
        var status: Int32 = 0
        let deadline = ContinuousClock.now + timeout
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { break }
            if reaped == -1, errno != EINTR {
                throw CommandFailed(command: arguments.joined(separator: " "), output: "waitpid failed: \(errno)")
            }
            if ContinuousClock.now > deadline {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                throw CommandFailed(command: arguments.joined(separator: " "), output: "still running after \(timeout)")
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // WIFEXITED and WEXITSTATUS: a normal exit with status 0.
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw CommandFailed(command: arguments.joined(separator: " "), output: text)
        }
        return text
    }

    /// Sets `FD_CLOEXEC` on every descriptor above 2 of this process (harmless: it never execs
    /// anything else).
    private static func markDescriptorsCloseOnExec() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return }
        for name in names {
            guard let fd = Int32(name), fd > 2 else { continue }
            let flags = fcntl(fd, F_GETFD)
            if flags >= 0 {
                _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC)
            }
        }
    }

    struct CommandFailed: Error, CustomStringConvertible {
        var command: String
        var output: String
        var description: String { "\(self.command) failed: \(self.output)" }
    }
}
