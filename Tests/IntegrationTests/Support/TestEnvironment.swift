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
    /// Spawned with `posix_spawn` and reaped with `waitpid`: servers the command starts in the
    /// background inherit its output file and must not keep the caller waiting.
    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("decode-async-\(UUID()).out")
            .path
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let script = "cd \"$0\" && exec \"$@\" </dev/null >\"$DECODE_ASYNC_TEST_OUTPUT\" 2>&1"
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
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // WIFEXITED and WEXITSTATUS: a normal exit with status 0.
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw CommandFailed(command: arguments.joined(separator: " "), output: text)
        }
        return text
    }

    struct CommandFailed: Error, CustomStringConvertible {
        var command: String
        var output: String
        var description: String { "\(self.command) failed: \(self.output)" }
    }
}
