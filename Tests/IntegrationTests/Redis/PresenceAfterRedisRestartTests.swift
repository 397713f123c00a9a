import NotificationService
import RedisClient
import Testing

@testable import SocketIO

/// A user keeps a live socket while Redis restarts: the gateway writes the presence back as soon as
/// its Redis connection returns, not at the next refresh. The test runs its own redis-server (the
/// stack's shared one is never touched).
@Suite("Presence after a Redis restart")
struct PresenceAfterRedisRestartTests {
    @Test func presenceOfALiveSocketIsBackAsSoonAsRedisIs() async throws {
        let redisServer = try await ThrowawayRedis.start()
        do {
            // A 30-minute TTL refreshes every 10 minutes: within this test only the reconnect can
            // write the key again.
            try await LimitedGateway.run(redisURI: redisServer.uri, presenceTTLSeconds: 1800) { gateway in
                let userID = TestEnvironment.uniqueName("user")
                let key = NotificationGateway.presenceKeys.user(userID)
                let probe = RedisClient(configuration: try RedisConfiguration(uri: redisServer.uri))
                defer { probe.shutdown() }
                let client = try await gateway.connectWebSocketClient(userID: userID)
                defer { client.close() }
                try await eventually("presence written at connect") { try await probe.exists([key]) == 1 }
                try await probe.set("restart-marker", "1")

                try await redisServer.stopServer()
                try await redisServer.startServer()

                // The server came back empty (no persistence), and the socket is still open.
                try await eventually("the probe reaches the restarted server") {
                    (try? await probe.exists(["restart-marker"])) == 0
                }
                #expect(!client.isClosedByServer)
                // Well within the 10-minute refresh interval: only the reconnect path writes it.
                try await eventually("presence rewritten after the restart", timeout: .seconds(30)) {
                    (try? await probe.exists([key])) == 1
                }
                let members = try await probe.smembers(key)
                #expect(members.count == 1)
                #expect(members.first?.hasPrefix(gateway.server.configuration.instanceID + ":") == true)
                #expect(try await probe.ttl(key) > 1700)
            }
        } catch {
            await redisServer.remove()
            throw error
        }
        await redisServer.remove()
    }

    /// A socket that closes while Redis is down: its removal fails, and is done as soon as Redis is
    /// back. The Redis here saved its data before it stopped and loads it again, so without the
    /// retry the closed socket would show its user online for the entry's whole lifetime.
    @Test func aRemovalThatFailedWhileRedisWasDownIsDoneWhenItIsBack() async throws {
        let redisServer = try await ThrowawayRedis.start()
        do {
            // A 30-minute TTL refreshes every 10 minutes: within this test only the reconnect can
            // remove the entry.
            try await LimitedGateway.run(redisURI: redisServer.uri, presenceTTLSeconds: 1800) { gateway in
                let userID = TestEnvironment.uniqueName("user")
                let key = NotificationGateway.presenceKeys.user(userID)
                let probe = RedisClient(configuration: try RedisConfiguration(uri: redisServer.uri))
                defer { probe.shutdown() }
                let client = try await gateway.connectWebSocketClient(userID: userID)
                try await eventually("presence written at connect") { try await probe.exists([key]) == 1 }
                try await probe.set("restart-marker", "1")
                try await redisServer.saveAndStop()

                client.close()
                try await eventually("the removal failed and waits") { gateway.server.unclearedPresenceCount == 1 }
                #expect(gateway.server.localSockets(ofUser: userID).isEmpty)

                try await redisServer.startServer()
                try await eventually("the probe reaches the restarted server with its data") {
                    (try? await probe.exists(["restart-marker"])) == 1
                }
                // The entry goes first; the server forgets the removal once it has completed.
                try await eventually("the entry removed once Redis is back", timeout: .seconds(30)) {
                    (try? await probe.exists([key])) == 0 && gateway.server.unclearedPresenceCount == 0
                }
                #expect(!(await gateway.server.isUserConnected(userID)))
            }
        } catch {
            await redisServer.remove()
            throw error
        }
        await redisServer.remove()
    }
}
