import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A bare TCP client for tests that must send what no HTTP client would (half heads, garbage):
/// records every byte received and whether the server closed the connection.
final class RawConnection: Sendable {
    private struct State {
        var received: [UInt8] = []
        var closed = false
    }

    let channel: any Channel
    private let state: NIOLockedValueBox<State>

    private init(channel: any Channel, state: NIOLockedValueBox<State>) {
        self.channel = channel
        self.state = state
    }

    static func connect(port: Int) async throws -> RawConnection {
        let state = NIOLockedValueBox(State())
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(state: state))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        return RawConnection(channel: channel, state: state)
    }

    func send(_ text: String) async throws {
        try await self.send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) async throws {
        try await self.channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    /// Every byte received so far.
    var received: [UInt8] { self.state.withLockedValue { $0.received } }
    var text: String { String(decoding: self.received, as: UTF8.self) }

    /// Whether the server closed (or half-closed) its side: a read would return end-of-file.
    var isClosedByServer: Bool { self.state.withLockedValue { $0.closed } }

    /// Removes the first `count` received bytes (consumed by a parser).
    func consume(_ count: Int) {
        self.state.withLockedValue { $0.received.removeFirst(min(count, $0.received.count)) }
    }

    func close() {
        self.channel.close(promise: nil)
    }

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer

        let state: NIOLockedValueBox<State>

        init(state: NIOLockedValueBox<State>) {
            self.state = state
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = Self.unwrapInboundIn(data)
            self.state.withLockedValue { $0.received += buffer.readableBytesView }
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case ChannelEvent.inputClosed = event {
                self.state.withLockedValue { $0.closed = true }
            }
            context.fireUserInboundEventTriggered(event)
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.state.withLockedValue { $0.closed = true }
            context.fireChannelInactive()
        }
    }
}

/// The minimum of RFC 6455 a test needs to hold a WebSocket open on a `RawConnection`: the
/// handshake, masked text frames out, unmasked text frames in.
extension RawConnection {
    /// Sends the upgrade request for `path` and waits for `101 Switching Protocols`.
    func upgradeToWebSocket(path: String) async throws {
        try await self.send(
            "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        try await eventually("the upgrade answer") { self.text.contains("\r\n\r\n") }
        let text = self.text
        guard text.hasPrefix("HTTP/1.1 101"), let end = text.range(of: "\r\n\r\n") else {
            throw WebSocketFailure(what: "no 101: \(text.prefix(200))")
        }
        self.consume(text.utf8.distance(from: text.startIndex, to: end.upperBound))
    }

    /// Sends one masked text frame.
    func sendWebSocketText(_ text: String) async throws {
        let payload = Array(text.utf8)
        var frame: [UInt8] = [0x81]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else {
            frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xff)]
        }
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        try await self.send(frame)
    }

    /// The next complete text frame from the server (control frames are skipped), waiting up to
    /// `timeout`.
    func receiveWebSocketText(timeout: Duration = .seconds(20)) async throws -> String {
        var message: String?
        try await eventually("a WebSocket text frame", timeout: timeout) {
            while let frame = self.takeFrame() {
                if frame.opcode == 1 {
                    message = frame.text
                    return true
                }
            }
            return false
        }
        return message ?? ""
    }

    private func takeFrame() -> (opcode: UInt8, text: String)? {
        let bytes = self.received
        guard bytes.count >= 2 else { return nil }
        var length = Int(bytes[1] & 0x7f)
        var offset = 2
        if length == 126 {
            guard bytes.count >= 4 else { return nil }
            length = Int(bytes[2]) << 8 | Int(bytes[3])
            offset = 4
        } else if length == 127 {
            return nil
        }
        guard bytes.count >= offset + length else { return nil }
        self.consume(offset + length)
        return (bytes[0] & 0x0f, String(decoding: bytes[offset..<offset + length], as: UTF8.self))
    }

    struct WebSocketFailure: Error, CustomStringConvertible {
        var what: String
        var description: String { "WebSocket: \(self.what)" }
    }
}
