import Configuration
import Foundation
import SystemPackage

/// Where settings come from: the process environment first, then `.env` in the working directory,
/// as the original NestJS services read them.
enum ConfigurationSource {
    static let secretVariables: Set<String> = [
        "JWT_ACCESS_TOKEN_SECRET", "SMTP_PASS", "NEO4J_PASSWORD", "REDIS_PASSWORD", "SYNC_ADMIN_TOKEN",
        "CONSOLE_TOKEN",
    ]

    /// A reader over `environment` (the process's by default) backed by the `.env`-style file at
    /// `environmentFile`, which may be absent.
    ///
    /// - Throws: when the file exists but cannot be read or parsed.
    static func reader(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        environmentFile: String = ".env"
    ) async throws -> ConfigReader {
        let secrets = SecretsSpecifier<String, String>.dynamic { key, _ in
            Self.secretVariables.contains(key.uppercased())
        }
        return ConfigReader(providers: [
            EnvironmentVariablesProvider(environmentVariables: environment, secretsSpecifier: secrets),
            try await EnvironmentVariablesProvider(
                environmentFilePath: FilePath(environmentFile),
                allowMissing: true,
                secretsSpecifier: secrets
            ),
        ])
    }
}
