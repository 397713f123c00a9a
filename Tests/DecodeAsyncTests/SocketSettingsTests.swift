import Configuration
import NotificationService
import SocketIO
import Testing

@testable import DecodeAsync

@Suite("Socket.IO settings of the notification service")
struct SocketSettingsTests {
    @Test(arguments: [nil, "5", "100"])
    func burstIsTwiceTheEventRate(rate: String?) throws {
        var environment = ["MONGO_URI": "mongodb://127.0.0.1:27017/decode"]
        environment["SOCKET_EVENTS_PER_SECOND"] = rate
        let reader = ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: environment))
        let configuration = try DecodeAsyncConfiguration.load(from: reader, services: [.notifications])
        let notifications = try #require(configuration.notifications)
        let socket = NotificationFlow.socketConfiguration(notifications)
        let expected = Double(rate ?? "20") ?? 0
        #expect(socket.eventsPerSecond == expected)
        #expect(socket.eventBurst == 2 * expected)
    }
}
