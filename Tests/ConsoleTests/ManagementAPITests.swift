import NIOCore
import NIOPosix
import Testing

@testable import Console

@Suite struct ManagementAPITests {
    @Test func theURIGivesHostPortAndBasicCredentials() throws {
        let endpoint = try #require(ManagementAPI.parse("http://guest:gu%40est@127.0.0.1:15673/", vhost: "/"))
        #expect(endpoint.host == "127.0.0.1")
        #expect(endpoint.port == 15673)
        // base64("guest:gu@est")
        #expect(endpoint.authorization == "Basic Z3Vlc3Q6Z3VAZXN0")
        let plain = try #require(ManagementAPI.parse("http://rabbit", vhost: "/"))
        #expect(plain.port == 15672)
        #expect(plain.authorization == nil)
        for bad in ["https://x:15672", "amqp://x", "http://", "http://x:0", "http://x:notaport"] {
            #expect(ManagementAPI.parse(bad, vhost: "/") == nil, "\(bad)")
        }
        #expect(ManagementAPI.percentEncode("/") == "%2F")
        #expect(ManagementAPI.percentEncode("email_queue.retry.1") == "email_queue.retry.1")
    }

    @Test func aQueueAnswerGivesDepthsAndRates() throws {
        let answer = """
            {"name":"email_queue","messages_ready":3,"messages_unacknowledged":2,"consumers":1,
             "message_stats":{"publish":10,"publish_details":{"rate":1.5},"deliver_get_details":{"rate":0.5}}}
            """
        let figures = try #require(ManagementAPI.figures(fromJSON: Array(answer.utf8)))
        #expect(figures == .init(ready: 3, unacknowledged: 2, consumers: 1, publishRate: 1.5, deliverRate: 0.5))
        // A queue that never saw a message has no message_stats.
        let idle = try #require(
            ManagementAPI.figures(
                fromJSON: Array(#"{"messages_ready":0,"messages_unacknowledged":0,"consumers":0}"#.utf8)))
        #expect(idle.publishRate == nil)
        #expect(ManagementAPI.figures(fromJSON: Array("not json".utf8)) == nil)
    }

    /// An API that cannot be reached (the plugin off, a wrong port) is an error for the page to
    /// show, not a crash: a port on loopback that nothing listens on refuses the connection.
    @Test func anUnreachableAPIIsAnError() async throws {
        let closed = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(closed.localAddress?.port)
        try await closed.close()
        let api = try #require(ManagementAPI(uri: "http://127.0.0.1:\(port)", timeout: .seconds(2)))
        await #expect(throws: (any Error).self) { try await api.queue("email_queue") }
    }
}
