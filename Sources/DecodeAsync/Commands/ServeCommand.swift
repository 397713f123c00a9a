import ArgumentParser
import Foundation

/// `decode-async serve [service...]`: runs the chosen services (all by default) in one process.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract:
            "Run services: notifications, email, sync, console (default: the three flows in one process, and the console when CONSOLE_TOKEN is set)."
    )

    @Argument(
        help:
            "Services to run: notifications, email, sync, console (default: the three flows, and the console when CONSOLE_TOKEN is set)."
    )
    var services: [ServiceName] = []

    func run() async throws {
        let reader = try await ConfigurationSource.reader()
        let selected = ServiceName.selection(self.services, reader: reader)
        let configuration: DecodeAsyncConfiguration
        do {
            configuration = try DecodeAsyncConfiguration.load(from: reader, services: selected)
        } catch let error as ConfigurationErrors {
            for line in error.errors {
                printError("decode-async: configuration: \(line)")
            }
            throw ExitCode(78)
        }
        try await Runtime(configuration: configuration).run()
    }
}

/// Writes a line to standard error.
func printError(_ line: String) {
    var standardError = StandardError()
    print(line, to: &standardError)
}

private struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}
