import Testing

@testable import RedisClient

@Suite("Redis configuration")
struct RedisConfigurationTests {
    /// Interpolating the configuration (as a log line might) never shows the password.
    @Test func descriptionMasksThePassword() throws {
        let withPassword = try RedisConfiguration(uri: "redis://:s3cr3t-pw@cache.example:6380/2")
        #expect("\(withPassword)" == "redis://:***@cache.example:6380/2")
        #expect(String(reflecting: withPassword) == "redis://:***@cache.example:6380/2")
        let withUser = try RedisConfiguration(uri: "rediss://app:s3cr3t-pw@cache.example")
        #expect(!"\(withUser)".contains("s3cr3t-pw"))
        #expect("\(withUser)".hasPrefix("rediss://app:***@cache.example:"))
        let open = try RedisConfiguration(uri: "redis://cache.example")
        #expect("\(open)" == "redis://cache.example:6379/0")
    }
}
