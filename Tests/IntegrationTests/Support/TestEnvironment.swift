import Foundation

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

    /// Runs a command from the repository root and returns its standard output.
    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.currentDirectoryURL = self.repositoryRoot
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
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
