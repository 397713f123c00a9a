import AMQPClient
import Foundation
import Logging
import Observability

/// A short-lived broker session for operator commands (`emit`, `dlq`): reads `RABBITMQ_URI` as the
/// services do, runs a recovering client for the duration of `body`, then closes it.
enum BrokerSession {
    /// `bootstrapLogging` false when the command already set logging up (it can be done once per process).
    static func run<Result: Sendable>(
        bootstrapLogging: Bool = true,
        _ body: (AMQPClient) async throws -> Result
    ) async throws -> Result {
        let configuration: DecodeAsyncConfiguration
        do {
            configuration = try DecodeAsyncConfiguration.load(
                from: try await ConfigurationSource.reader(), services: [])
        } catch let error as ConfigurationErrors {
            for line in error.errors {
                printError("decode-async: configuration: \(line)")
            }
            throw ExitCodeError(code: 78)
        }
        if bootstrapLogging {
            LoggingBootstrap.bootstrap(format: configuration.shared.logFormat, level: .warning)
        }
        var connection = try AMQPConnectionConfiguration(uri: configuration.shared.rabbitmqURI)
        connection.connectionName = "decode-async-cli"
        connection.connectionTimeout = .seconds(5)
        let client = AMQPClient(
            configuration: .init(connection: connection, maximumBackoff: .seconds(2), publishWaitTimeout: .seconds(10)),
            logger: Logger(label: "decode-async.amqp")
        )
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.run() }
            defer { client.beginShutdown() }
            return try await body(client)
        }
    }
}

/// Ends the command with an exit status (78: configuration).
struct ExitCodeError: Error {
    var code: Int32
}
