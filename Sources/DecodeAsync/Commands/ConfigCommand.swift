import ArgumentParser

/// `decode-async config [service...]`: prints the effective configuration, secrets masked.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print the effective configuration (secrets masked) and any problem with it."
    )

    @Argument(
        help:
            "Services whose settings to show: notifications, email, sync, console (default: the three flows, and the console when CONSOLE_TOKEN is set)."
    )
    var services: [ServiceName] = []

    func run() async throws {
        let reader = try await ConfigurationSource.reader()
        let selected = ServiceName.selection(self.services, reader: reader)
        var settings = SettingsReader(reader: reader)
        _ = DecodeAsyncConfiguration.read(&settings, services: selected)
        let width = settings.entries.map(\.variable.count).max() ?? 0
        for entry in settings.entries {
            let padding = String(repeating: " ", count: width - entry.variable.count)
            print("\(entry.variable)\(padding) = \(entry.shownValue)  (\(entry.source.rawValue))")
        }
        guard settings.errors.isEmpty else {
            for error in settings.errors {
                printError("error: \(error)")
            }
            throw ExitCode(78)
        }
    }
}
