import Foundation
import HummingbirdWSClient
import Logging
import NIOConcurrencyHelpers
import SocketIO

/// A minimal Socket.IO client over a WebSocket for the benchmarks: connects to `/notifications`
/// with a token, answers pings, acks what asks for an ack, and reports every event it receives.
enum BenchSocketClient {
    static func run(
        baseURL: String,
        token: String,
        onConnected: @escaping @Sendable () -> Void,
        onEvent: @escaping @Sendable (String, [JSONValue]) -> Void
    ) async throws {
        let url = baseURL.replacingOccurrences(of: "http://", with: "ws://") + "/socket.io/?EIO=4&transport=websocket"
        try await WebSocketClient.connect(url: url, logger: Logger(label: "bench.client")) { inbound, outbound, _ in
            var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
            _ = try await messages.next()  // open
            let auth = JSONValue.object(["token": .string(token)])
            try await outbound.write(.text("40/notifications,\(auth.text)"))
            while let message = try await messages.next() {
                guard case .text(let text) = message else { continue }
                if text == "2" {
                    try await outbound.write(.text("3"))
                    continue
                }
                guard text.first == "4", let packet = try? SocketIOPacket.parse(String(text.dropFirst())) else {
                    continue
                }
                switch packet.type {
                case .event:
                    guard let (name, arguments) = packet.eventNameAndArguments else { continue }
                    if name == "user_connected" {
                        onConnected()
                    } else {
                        onEvent(name, arguments)
                    }
                    if let ackID = packet.ackID {
                        let ack = SocketIOPacket(
                            type: .ack, namespace: "/notifications", ackID: ackID, data: .array([]))
                        try await outbound.write(.text("4" + ack.text))
                    }
                case .disconnect:
                    return
                default:
                    continue
                }
            }
        }
    }

    /// Resident memory of this process, in bytes (Linux `/proc/self/statm`).
    static func residentBytes() -> Int {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

/// Counts down events from many tasks; `wait` returns once the count is reached.
final class Countdown: Sendable {
    private let state: NIOLockedValueBox<(remaining: Int, waiters: [CheckedContinuation<Void, Never>])>

    init(_ count: Int) {
        self.state = NIOLockedValueBox((count, []))
    }

    func arrive() {
        let waiters = self.state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.remaining -= 1
            guard state.remaining <= 0 else { return [] }
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let done = self.state.withLockedValue { state -> Bool in
                if state.remaining <= 0 { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}
