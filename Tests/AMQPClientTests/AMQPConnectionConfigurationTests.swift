import Testing

@testable import AMQPClient

@Suite("AMQP URIs")
struct AMQPConnectionConfigurationTests {
    @Test func defaultsFollowRabbitMQ() throws {
        let configuration = try AMQPConnectionConfiguration(uri: "amqp://localhost")
        #expect(configuration.host == "localhost")
        #expect(configuration.port == 5672)
        #expect(configuration.username == "guest")
        #expect(configuration.password == "guest")
        #expect(configuration.virtualHost == "/")
        #expect(configuration.tls == nil)
    }

    @Test func credentialsVirtualHostAndQueryParameters() throws {
        let configuration = try AMQPConnectionConfiguration(
            uri:
                "amqps://us%40er:p%3Ass@rabbit.example:5671/prod%2Fa?heartbeat=15&frame_max=8192&channel_max=64&connection_timeout=2500&auth_mechanism=amqplain"
        )
        #expect(configuration.username == "us@er")
        #expect(configuration.password == "p:ss")
        #expect(configuration.host == "rabbit.example")
        #expect(configuration.port == 5671)
        #expect(configuration.tls != nil)
        #expect(configuration.virtualHost == "prod/a")
        #expect(configuration.heartbeat == 15)
        #expect(configuration.frameMax == 8192)
        #expect(configuration.channelMax == 64)
        #expect(configuration.connectionTimeout == .milliseconds(2500))
        #expect(configuration.authMechanism == .amqplain)
    }

    @Test func virtualHostRules() throws {
        #expect(try AMQPConnectionConfiguration(uri: "amqp://h/").virtualHost == "")
        #expect(try AMQPConnectionConfiguration(uri: "amqp://h/%2f").virtualHost == "/")
        #expect(try AMQPConnectionConfiguration(uri: "amqps://h").port == 5671)
    }

    @Test(arguments: [
        "http://localhost", "amqp://", "amqp://h?heartbeat=x", "amqp://h?frame_max=100", "amqp://h/a/b",
        "amqp://h?auth_mechanism=external",
    ])
    func invalidURIsAreRefused(_ uri: String) {
        #expect(throws: AMQPClientError.self) { try AMQPConnectionConfiguration(uri: uri) }
    }

    @Test func errorsNeverEchoThePassword() {
        do {
            _ = try AMQPConnectionConfiguration(uri: "amqp://u:topsecret@h?heartbeat=oops")
            Issue.record("accepted")
        } catch {
            #expect(!String(describing: error).contains("topsecret"))
        }
    }

    /// Interpolating the configuration (as a log line might) never shows the password.
    @Test func descriptionMasksThePassword() throws {
        let plain = try AMQPConnectionConfiguration(uri: "amqp://app:s3cr3t-pw@rabbit.example:5673/prod")
        #expect("\(plain)" == "amqp://app:***@rabbit.example:5673/prod")
        #expect(String(reflecting: plain) == "amqp://app:***@rabbit.example:5673/prod")
        let tls = try AMQPConnectionConfiguration(uri: "amqps://app:s3cr3t-pw@rabbit.example")
        #expect(!"\(tls)".contains("s3cr3t-pw"))
        #expect("\(tls)".hasPrefix("amqps://app:***@rabbit.example:5671"))
    }
}
