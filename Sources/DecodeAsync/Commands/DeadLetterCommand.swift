import AMQPClient
import AMQPProtocol
import ArgumentParser
import Foundation
import Messaging
import NIOCore

/// `decode-async dlq list|show|replay|delete|purge <queue>`: operate the dead-letter queue of a main
/// queue, with the same ``DeadLetterQueue`` operations as the operations console.
struct DeadLetterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Inspect, replay and purge the dead letters of a queue (<queue>.dlq).",
        subcommands: [List.self, Show.self, Replay.self, Delete.self, Purge.self]
    )

    static func withDeadLetters<Result: Sendable>(
        _ queue: String,
        _ body: (DeadLetterQueue) async throws -> Result
    ) async throws -> Result {
        do {
            return try await BrokerSession.run { client in
                try await body(DeadLetterQueue(client: client, topology: QueueTopology(queue: queue)))
            }
        } catch let error as ExitCodeError {
            throw ExitCode(error.code)
        } catch let error as AMQPClientError where error.replyCode == 404 {
            printError("decode-async dlq: \(queue).dlq does not exist (no consumer of \(queue) declared it yet)")
            throw ExitCode.failure
        } catch {
            printError("decode-async dlq: \(error)")
            throw ExitCode.failure
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List dead letters with their reason (they stay in the queue).")

        @Argument(help: "The main queue, e.g. email_queue.")
        var queue: String

        @Option(help: "Show at most this many.")
        var limit: Int = 50

        func run() async throws {
            let letters = try await DeadLetterCommand.withDeadLetters(self.queue) {
                try await $0.list(limit: self.limit)
            }
            guard !letters.isEmpty else {
                print("\(self.queue).dlq is empty")
                return
            }
            print(
                "#    message_id                            pattern               kind               retries  dead-lettered at          reason"
            )
            for letter in letters {
                let columns = [
                    String(letter.position).padding(toLength: 4, withPad: " ", startingAt: 0),
                    letter.id.padding(toLength: 37, withPad: " ", startingAt: 0),
                    (letter.pattern ?? "-").padding(toLength: 21, withPad: " ", startingAt: 0),
                    (letter.kind ?? "-").padding(toLength: 18, withPad: " ", startingAt: 0),
                    String(letter.retryCount).padding(toLength: 8, withPad: " ", startingAt: 0),
                    (letter.deadLetteredAt ?? "-").padding(toLength: 25, withPad: " ", startingAt: 0),
                    String((letter.reason ?? "-").prefix(100)),
                ]
                print(columns.joined(separator: " "))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one dead letter: history, properties and body.")

        @Argument(help: "The main queue, e.g. email_queue.")
        var queue: String

        @Argument(help: "The letter's position (from `list`) or its message_id.")
        var letter: String

        func run() async throws {
            let letters = try await DeadLetterCommand.withDeadLetters(self.queue) { try await $0.list(limit: 10_000) }
            guard
                let letter = letters.first(where: { $0.id == self.letter || String($0.position) == self.letter })
            else {
                printError("decode-async dlq: no dead letter \(self.letter) in \(self.queue).dlq")
                throw ExitCode.failure
            }
            print("position:         \(letter.position)")
            print("message_id:       \(letter.messageID ?? "-")")
            print("pattern:          \(letter.pattern ?? "-")")
            print("kind:             \(letter.kind ?? "-")")
            print("reason:           \(letter.reason ?? "-")")
            print("retries:          \(letter.retryCount)")
            print("replayed before:  \(letter.replayCount)")
            print("first failure at: \(letter.firstFailureAt ?? "-")")
            print("dead-lettered at: \(letter.deadLetteredAt ?? "-")")
            for entry in letter.properties.headers?.entries ?? [] {
                print(
                    "header \(entry.key): \(entry.value.stringValue ?? entry.value.intValue.map(String.init) ?? "\(entry.value)")"
                )
            }
            print("body (\(letter.body.readableBytes) bytes):")
            print(String(decoding: letter.body.readableBytesView, as: UTF8.self))
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move dead letters back to the main queue, retry count reset (all, or by message_id)."
        )

        @Argument(help: "The main queue, e.g. email_queue.")
        var queue: String

        @Option(name: .customLong("message-id"), help: "Replay only this message (repeatable).")
        var messageIDs: [String] = []

        @Flag(help: "Replay every dead letter.")
        var all = false

        func validate() throws {
            guard self.all != !self.messageIDs.isEmpty else {
                throw ValidationError("give either --all or one or more --message-id")
            }
        }

        func run() async throws {
            let ids = self.all ? nil : Set(self.messageIDs)
            let count = try await DeadLetterCommand.withDeadLetters(self.queue) { try await $0.replay(messageIDs: ids) }
            print("replayed \(count) message(s) from \(self.queue).dlq to \(self.queue)")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete some dead letters for good (by message_id, or the sha256: id `list` shows)."
        )

        @Argument(help: "The main queue, e.g. email_queue.")
        var queue: String

        @Option(name: .customLong("message-id"), help: "Delete this letter (repeatable).")
        var messageIDs: [String] = []

        func validate() throws {
            guard !self.messageIDs.isEmpty else { throw ValidationError("give one or more --message-id") }
        }

        func run() async throws {
            let count = try await DeadLetterCommand.withDeadLetters(self.queue) {
                try await $0.delete(messageIDs: Set(self.messageIDs))
            }
            print("deleted \(count) message(s) from \(self.queue).dlq")
            if count < Set(self.messageIDs).count { throw ExitCode.failure }
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete every dead letter of a queue.")

        @Argument(help: "The main queue, e.g. email_queue.")
        var queue: String

        @Flag(help: "Do not ask for confirmation.")
        var yes = false

        func run() async throws {
            if !self.yes {
                print(
                    "This deletes every message in \(self.queue).dlq. Type the queue name to confirm: ", terminator: "")
                guard readLine()?.trimmingCharacters(in: .whitespaces) == self.queue else {
                    print("not confirmed; nothing deleted")
                    throw ExitCode.failure
                }
            }
            let count = try await DeadLetterCommand.withDeadLetters(self.queue) { try await $0.purge() }
            print("purged \(count) message(s) from \(self.queue).dlq")
        }
    }
}
