import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Sends DogStatsD lines to an agent over UDP, batched, without ever blocking the caller.
///
/// ``send(_:)`` only appends to a bounded in-memory buffer; when the buffer is full the line is dropped
/// and counted (``droppedLines``), so a slow or absent agent can never stall a worker. The client's
/// ``run()`` (it is a `Service`) wakes when lines arrive, waits `flushInterval` so a burst travels
/// together, and writes the buffered lines as datagrams of at most `maxPayloadSize` bytes. The agent's
/// host name is resolved off the event loops and re-resolved after a failure.
public final class DogStatsDClient: Service, Sendable {
    /// How the client reaches the agent and how much it buffers.
    public struct Configuration: Sendable {
        /// Agent host name or address (`DD_AGENT_HOST`).
        public var host: String
        /// Agent UDP port (`DD_DOGSTATSD_PORT`).
        public var port: Int
        /// Lines kept while waiting for a flush; more are dropped and counted.
        public var bufferCapacity: Int
        /// The largest datagram payload; 1432 bytes fits an Ethernet MTU without fragmentation.
        public var maxPayloadSize: Int
        /// How long a flush waits after the first buffered line, so bursts share datagrams.
        public var flushInterval: Duration

        /// Creates a configuration; the defaults suit a local Datadog agent.
        public init(
            host: String,
            port: Int,
            bufferCapacity: Int = 10_000,
            maxPayloadSize: Int = 1432,
            flushInterval: Duration = .milliseconds(50)
        ) {
            self.host = host
            self.port = port
            self.bufferCapacity = bufferCapacity
            self.maxPayloadSize = maxPayloadSize
            self.flushInterval = flushInterval
        }
    }

    private struct State {
        var lines: [String] = []
        var dropped: Int = 0
        var sentDatagrams: Int = 0
    }

    private let configuration: Configuration
    private let state = NIOLockedValueBox(State())
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger

    /// Creates a client; nothing is sent until ``run()`` is running.
    public init(
        configuration: Configuration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "decode-async.dogstatsd")
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        (self.wakeups, self.wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Lines dropped because the buffer was full or the agent could not be reached.
    public var droppedLines: Int { self.state.withLockedValue { $0.dropped } }

    /// Datagrams written to the socket so far.
    public var sentDatagrams: Int { self.state.withLockedValue { $0.sentDatagrams } }

    /// Queues one line for sending. Never blocks; drops (and counts) when the buffer is full.
    public func send(_ line: String) {
        let shouldWake = self.state.withLockedValue { state -> Bool in
            guard state.lines.count < self.configuration.bufferCapacity else {
                state.dropped += 1
                return false
            }
            state.lines.append(line)
            return state.lines.count == 1
        }
        if shouldWake {
            self.wake.yield()
        }
    }

    /// Binds a UDP socket and flushes buffered lines until graceful shutdown, then flushes once more.
    public func run() async {
        var sender = Sender(configuration: self.configuration, group: self.eventLoopGroup, logger: self.logger)
        for await _ in self.wakeups.cancelOnGracefulShutdown() {
            try? await Task.sleep(for: self.configuration.flushInterval)
            await self.flush(with: &sender)
        }
        await self.flush(with: &sender)
        await sender.close()
    }

    private func flush(with sender: inout Sender) async {
        let lines = self.state.withLockedValue { state -> [String] in
            defer { state.lines.removeAll(keepingCapacity: true) }
            return state.lines
        }
        guard !lines.isEmpty else { return }
        let packets = DogStatsDLine.pack(lines, maxPayloadSize: self.configuration.maxPayloadSize)
        let outcome = await sender.send(packets)
        self.state.withLockedValue { state in
            state.sentDatagrams += outcome.sent
            if outcome.failed > 0 {
                state.dropped += lines.count
            }
        }
    }
}

/// Resolves the agent address (off the event loops), binds a socket of the same family, and writes
/// datagrams; any failure forgets both so the next flush starts afresh.
private struct Sender {
    let configuration: DogStatsDClient.Configuration
    let group: any EventLoopGroup
    let logger: Logger
    var address: SocketAddress?
    var channel: (any Channel)?
    var lastFailure: ContinuousClock.Instant?

    init(configuration: DogStatsDClient.Configuration, group: any EventLoopGroup, logger: Logger) {
        self.configuration = configuration
        self.group = group
        self.logger = logger
    }

    mutating func send(_ packets: [String]) async -> (sent: Int, failed: Int) {
        guard let (address, channel) = await self.connect() else { return (0, packets.count) }
        var sent = 0
        for packet in packets {
            let buffer = channel.allocator.buffer(string: packet)
            do {
                try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: buffer)).get()
                sent += 1
            } catch {
                self.logger.debug("dogstatsd datagram not sent", metadata: ["error": "\(error)"])
                await self.close()
                return (sent, packets.count - sent)
            }
        }
        return (sent, 0)
    }

    mutating func close() async {
        try? await self.channel?.close()
        self.channel = nil
        self.address = nil
    }

    private mutating func connect() async -> (SocketAddress, any Channel)? {
        if let address, let channel { return (address, channel) }
        if let lastFailure, ContinuousClock.now - lastFailure < .seconds(5) {
            return nil
        }
        let host = self.configuration.host
        let port = self.configuration.port
        do {
            let address = try await NIOThreadPool.singleton.runIfActive {
                try SocketAddress.makeAddressResolvingHost(host, port: port)
            }
            let bindHost = address.protocol == .inet6 ? "::" : "0.0.0.0"
            let channel = try await DatagramBootstrap(group: self.group).bind(host: bindHost, port: 0).get()
            self.address = address
            self.channel = channel
            return (address, channel)
        } catch {
            self.lastFailure = .now
            self.logger.warning(
                "dogstatsd agent unreachable; metrics are dropped until it is",
                metadata: ["host": "\(host)", "port": "\(port)", "error": "\(error)"]
            )
            return nil
        }
    }
}
