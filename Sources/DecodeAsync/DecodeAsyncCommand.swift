import ArgumentParser

/// The `decode-async` command line: run the services, show the configuration.
@main
struct DecodeAsyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode-async",
        abstract: "Notification delivery, email processing and MongoDB to Neo4j sync for the Decode Network.",
        subcommands: [
            ServeCommand.self, ConfigCommand.self, EmitCommand.self, DeadLetterCommand.self,
            EmailCommand.self,
            SyncCommand.self, TokenCommand.self,
        ]
    )
}
