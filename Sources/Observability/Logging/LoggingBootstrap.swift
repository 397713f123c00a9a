import Logging

/// Process-wide logging set-up.
public enum LoggingBootstrap {
    /// Installs ``StructuredLogHandler`` as the process's log backend.
    ///
    /// Call once, before any `Logger` is created; swift-log traps on a second bootstrap.
    public static func bootstrap(format: LogFormat, level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            StructuredLogHandler(label: label, format: format, level: level)
        }
    }
}
