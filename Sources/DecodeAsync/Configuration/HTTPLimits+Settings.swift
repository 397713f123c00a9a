import HTTPServerLimits

extension HTTPLimits {
    /// The limits of every HTTP listener (notification, email worker and sync ports):
    /// `HTTP_HEADER_TIMEOUT` and `HTTP_IDLE_TIMEOUT` in seconds, `HTTP_MAX_HEADER_SIZE` in bytes.
    init(_ settings: inout SettingsReader) {
        let defaults = HTTPLimits()
        self.init(
            headTimeout: .seconds(
                settings.int(
                    "HTTP_HEADER_TIMEOUT", default: Int(defaults.headTimeout.components.seconds), range: 1...3600,
                    expected: "seconds from 1 to 3600")),
            idleTimeout: .seconds(
                settings.int(
                    "HTTP_IDLE_TIMEOUT", default: Int(defaults.idleTimeout.components.seconds), range: 1...3600,
                    expected: "seconds from 1 to 3600")),
            maxHeadBytes: settings.int(
                "HTTP_MAX_HEADER_SIZE", default: defaults.maxHeadBytes, range: 1024...1_048_576,
                expected: "a size in bytes from 1024 to 1048576")
        )
    }
}
