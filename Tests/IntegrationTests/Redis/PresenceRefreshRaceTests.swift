import NotificationService
import RedisClient
import Testing

@testable import SocketIO

/// A presence refresh takes its list of sockets, then writes it. A socket that closes in between
/// has its removal reach Redis first, and the write must not bring it back: the user would show
/// online (and pushes count as delivered to a dead socket) until the entry ages out.
@Suite("Presence refresh racing a close")
struct PresenceRefreshRaceTests {
    @Test func aRefreshTakenBeforeACloseDoesNotBringTheSocketBack() async throws {
        // A 30-minute TTL refreshes every 10 minutes: the only refresh in this test is the one it runs.
        try await LimitedGateway.run(redisURI: RedisIntegrationTests.uri, presenceTTLSeconds: 1800) { gateway in
            let userID = TestEnvironment.uniqueName("user")
            let key = NotificationGateway.presenceKeys.user(userID)
            let presence = try #require(gateway.server.presence)
            let client = try await gateway.connectWebSocketClient(userID: userID)
            try await eventually("presence written at connect") { try await gateway.redis.exists([key]) == 1 }

            // The refresh's list, taken while the socket is open; then the socket closes and its
            // removal runs to the end.
            let snapshot = gateway.server.presenceSnapshot()
            #expect(snapshot[userID]?.count == 1)
            client.close()
            try await eventually("the close removed the socket") {
                guard gateway.server.localSockets(ofUser: userID).isEmpty else { return false }
                return try await gateway.redis.exists([key]) == 0
            }

            // The refresh writes what it listed: the closed socket goes again.
            try await gateway.server.writePresence(presence, snapshot)
            #expect(try await gateway.redis.exists([key]) == 0)
            #expect(!(await gateway.server.isUserConnected(userID)))
        }
    }
}
