import AMQPClient
import ArgumentParser
import Foundation
import Messaging

/// `decode-async emit <pattern> --queue <q> --data <json|@file|->`: publishes an event exactly as a
/// NestJS `ClientProxy.emit` would (`{"pattern","data"}`, no `id`), but persistent and confirmed.
struct EmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emit",
        abstract: "Publish a NestJS event (persistent, confirmed) to a queue."
    )

    @Argument(help: "The pattern, e.g. create_notification.")
    var pattern: String

    @Option(help: "The queue (routing key on the default exchange), e.g. notification_queue.")
    var queue: String

    @Option(help: "The data as JSON, @file to read it from a file, or - for standard input.")
    var data: String

    @Option(help: "The message_id consumers deduplicate on (default: a new random UUID per message).")
    var messageID: String?

    func run() async throws {
        let messageID = self.messageID ?? UUID().uuidString.lowercased()
        let raw = try self.readData()
        let body: Data
        do {
            body = try NestEnvelope.encodeEvent(pattern: self.pattern, rawData: raw)
        } catch {
            throw ValidationError("--data: \(error)")
        }
        do {
            try await BrokerSession.run { client in
                // NestJS producers assert their queue with {durable: true}; so do we (same arguments).
                try await client.declare([.queue(self.queue)])
                try await MessagePublisher(client: client)
                    .publish(body: body, queue: self.queue, messageID: messageID, messageType: self.pattern)
            }
        } catch let error as ExitCodeError {
            throw ExitCode(error.code)
        } catch {
            printError("decode-async emit: \(error)")
            throw ExitCode.failure
        }
        print("published \(messageID) to \(self.queue) (\(body.count) bytes, confirmed)")
    }

    private func readData() throws -> Data {
        if self.data == "-" {
            return FileHandle.standardInput.readDataToEndOfFile()
        }
        if self.data.hasPrefix("@") {
            let path = String(self.data.dropFirst())
            guard let contents = FileManager.default.contents(atPath: path) else {
                throw ValidationError("--data: cannot read \(path)")
            }
            return contents
        }
        return Data(self.data.utf8)
    }
}
