import ArgumentParser
import Foundation
import MongoStore
import NIOConcurrencyHelpers
import NotificationService
import SocketIO

extension DecodeAsyncBench {
    /// `decode-async-bench socketio`: N clients, an emit to each user room, emit-to-receipt latency
    /// and memory per connection.
    struct SocketIOBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "socketio",
            abstract: "Connect N Socket.IO clients, emit to each user's room, report latency and memory."
        )

        @Option(help: "Connected clients (one user each).")
        var clients = 2000

        @Option(help: "Emits to every user room.")
        var rounds = 3

        @Option(help: "Emits in flight at once (1: one at a time, as the python-socketio baseline emits).")
        var inFlight = 64

        @Flag(
            help: """
                Only server memory: the clients are held idle by other processes \
                (scripts/socketio_hold_clients.py), then the same for python-socketio.
                """)
        var memory = false

        @Option(help: "With --memory: the client-holding processes.")
        var processes = 4

        @Option(help: "With --memory: the Python with python-socketio, uvicorn and aiohttp.")
        var python = ".venv/bin/python"

        @Option(
            help: """
                With --memory: another decode-async binary (e.g. a copy of an earlier build) measured \
                the same way after this one, printed as "baseline".
                """)
        var baseline: String?

        func run() async throws {
            if self.memory {
                try await BenchSocketMemory.run(
                    clients: self.clients, processes: self.processes, python: self.python, baseline: self.baseline)
                return
            }
            let clients = self.clients
            let rounds = self.rounds
            let window = max(1, self.inFlight)
            try await BenchService.run(flow: nil) { service, _ in
                let users = (0..<clients).map { _ in BSONObjectID.generate().hex }
                let origin = ContinuousClock.now
                let latencies = NIOLockedValueBox<[Duration]>([])
                let received = Countdown(clients * rounds)
                let before = BenchSocketClient.residentBytes()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    let connectStart = ContinuousClock.now
                    await service.connect(users: users, in: &group) { name, arguments in
                        guard name == "bench", case .number(let sent)? = arguments.first?["t"] else { return }
                        let latency = (ContinuousClock.now - origin) - .nanoseconds(Int64(sent))
                        latencies.withLockedValue { $0.append(latency) }
                        received.arrive()
                    }
                    let connectElapsed = ContinuousClock.now - connectStart
                    let perConnection = Double(BenchSocketClient.residentBytes() - before) / Double(clients)
                    BenchReport.print("socket.io connect", count: clients, elapsed: connectElapsed, latencies: nil)
                    print(
                        String(
                            format:
                                "decode-async  memory per connection        %8.1f KiB (server and client in one process)",
                            perConnection / 1024))
                    let emitStart = ContinuousClock.now
                    for _ in 0..<rounds {
                        await withTaskGroup(of: Void.self) { emits in
                            for (index, user) in users.enumerated() {
                                if index >= window { await emits.next() }
                                emits.addTask {
                                    let sent = Double((ContinuousClock.now - origin) / .nanoseconds(1))
                                    await service.server?.emit(toUser: user, "bench", [.object(["t": .number(sent)])])
                                }
                            }
                        }
                    }
                    await received.wait()
                    BenchReport.print(
                        "room emit, \(window) in flight", count: clients * rounds,
                        elapsed: ContinuousClock.now - emitStart,
                        latencies: latencies.withLockedValue { $0 })
                    group.cancelAll()
                }
            }
        }
    }
}
