import NotificationService
import RedisClient
import Testing

@testable import SocketIO

/// Presence across a Redis restart: a live socket's entry is written back as soon as the gateway's
/// Redis connection returns, and a closed socket's removal that failed while Redis was down is
/// done then. Each test runs its own redis-server (the stack's shared one is never touched).
@Suite("Presence after a Redis restart")
struct PresenceAfterRedisRestartTests {
    /// What a test gets: its redis-server, a gateway using it, a probe client, and one WebSocket
    /// client connected as `userID`, whose presence entry (`key`) is written.
    struct Scene {
        let redisServer: ThrowawayRedis
        let gateway: LimitedGateway
        let probe: RedisClient
        let userID: String
        let key: String
        let client: RawConnection
    }

    /// Runs `body` in a fresh ``Scene``, with a 30-minute presence TTL: it refreshes every 10
    /// minutes, so within a test only the reconnect writes or removes entries. The probe has set
    /// `restart-marker`, to tell whether a restarted server kept its data.
    static func withScene(_ body: @Sendable (Scene) async throws -> Void) async throws {
        let redisServer = try await ThrowawayRedis.start()
        do {
            try await LimitedGateway.run(redisURI: redisServer.uri, presenceTTLSeconds: 1800) { gateway in
                let userID = TestEnvironment.uniqueName("user")
                let key = NotificationGateway.presenceKeys.user(userID)
                let probe = RedisClient(configuration: try RedisConfiguration(uri: redisServer.uri))
                defer { probe.shutdown() }
                let client = try await gateway.connectWebSocketClient(userID: userID)
                defer { client.close() }
                try await eventually("presence written at connect") { try await probe.exists([key]) == 1 }
                try await probe.set("restart-marker", "1")
                try await body(
                    Scene(
                        redisServer: redisServer, gateway: gateway, probe: probe, userID: userID, key: key,
                        client: client))
            }
        } catch {
            await redisServer.remove()
            throw error
        }
        await redisServer.remove()
    }

    @Test func presenceOfALiveSocketIsBackAsSoonAsRedisIs() async throws {
        try await Self.withScene { scene in
            try await scene.redisServer.stopServer()
            try await scene.redisServer.startServer()

            // The server came back empty (no persistence), and the socket is still open.
            try await eventually("the probe reaches the restarted server") {
                (try? await scene.probe.exists(["restart-marker"])) == 0
            }
            #expect(!scene.client.isClosedByServer)
            // Well within the 10-minute refresh interval: only the reconnect path writes it.
            try await eventually("presence rewritten after the restart", timeout: .seconds(30)) {
                (try? await scene.probe.exists([scene.key])) == 1
            }
            let members = try await scene.probe.smembers(scene.key)
            #expect(members.count == 1)
            #expect(members.first?.hasPrefix(scene.gateway.server.configuration.instanceID + ":") == true)
            #expect(try await scene.probe.ttl(scene.key) > 1700)
        }
    }

    /// A socket that closes while Redis is down: its removal fails, and is done as soon as Redis is
    /// back. The Redis here saved its data before it stopped and loads it again, so without the
    /// retry the closed socket would show its user online for the entry's whole lifetime.
    @Test func aRemovalThatFailedWhileRedisWasDownIsDoneWhenItIsBack() async throws {
        try await Self.withScene { scene in
            let server = scene.gateway.server
            try await scene.redisServer.saveAndStop()

            scene.client.close()
            try await eventually("the removal failed and waits") { server.unclearedPresenceCount == 1 }
            #expect(server.localSockets(ofUser: scene.userID).isEmpty)

            try await scene.redisServer.startServer()
            try await eventually("the probe reaches the restarted server with its data") {
                (try? await scene.probe.exists(["restart-marker"])) == 1
            }
            // The entry goes first; the server forgets the removal once it has completed.
            try await eventually("the entry removed once Redis is back", timeout: .seconds(30)) {
                (try? await scene.probe.exists([scene.key])) == 0 && server.unclearedPresenceCount == 0
            }
            #expect(!(await server.isUserConnected(scene.userID)))
        }
    }
}
