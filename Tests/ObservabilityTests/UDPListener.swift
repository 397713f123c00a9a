import NIOCore
import NIOPosix

/// A real UDP socket on 127.0.0.1 that collects the datagrams a DogStatsD agent would receive.
struct UDPListener {
    let channel: NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>
    var port: Int { self.channel.channel.localAddress?.port ?? 0 }

    static func bind() async throws -> UDPListener {
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>(
                        wrappingChannelSynchronously: channel
                    )
                }
            }
        return UDPListener(channel: channel)
    }

    /// Reads datagrams until `lineCount` lines arrived, then closes the socket; gives up after
    /// `timeout` (a safety net so a broken sender fails the test instead of hanging it).
    func receive(lineCount: Int, timeout: Duration = .seconds(10)) async throws -> (
        datagrams: [String], lines: [String]
    ) {
        try await withThrowingTaskGroup(of: ([String], [String])?.self) { group in
            group.addTask {
                try await self.channel.executeThenClose { inbound, _ in
                    var datagrams: [String] = []
                    var lines: [String] = []
                    for try await envelope in inbound {
                        let text = String(buffer: envelope.data)
                        datagrams.append(text)
                        lines.append(contentsOf: text.split(separator: "\n").map(String.init))
                        if lines.count >= lineCount { break }
                    }
                    return (datagrams, lines)
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let result = try await group.next(), let result else {
                throw UDPListenerTimeout()
            }
            return result
        }
    }
}

struct UDPListenerTimeout: Error {}
