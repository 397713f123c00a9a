import AMQPProtocol
import NIOCore

/// The connection-level protocol (channel 0) as a value type: handshake, tuning, heartbeats,
/// blocking and closing. Every event returns the one action the channel handler must perform;
/// the state machine does no I/O.
struct AMQPConnectionStateMachine {
    /// What the broker and client agreed in `tune`/`tune-ok`.
    struct Tuning: Equatable {
        var channelMax: UInt16
        var frameMax: UInt32
        var heartbeat: UInt16
    }

    enum State: Equatable {
        case initialized
        case awaitingStart
        case awaitingTune
        case awaitingOpenOk(Tuning)
        case open(Tuning)
        case closing
        case closed
    }

    enum Action {
        case none
        case sendProtocolHeader
        case sendFrames([AMQPFrame])
        /// Send `tune-ok` and `open`, apply the tuning (frame size, heartbeat timer).
        case tune(Tuning, send: [AMQPFrame])
        /// The connection is open; complete the connect call.
        case opened
        case sendHeartbeat
        case blocked(reason: String)
        case unblocked
        /// A frame for channel `n`: hand it to that channel's state machine.
        case forwardToChannel(UInt16, AMQPFrame)
        /// Reply `close-ok`, then close the socket; everything pending fails with the error.
        case acknowledgeCloseAndShutDown(AMQPClientError)
        /// Send `connection.close` with this reply, then wait for `close-ok`.
        case sendCloseAndWait(AMQPClose)
        /// Close the socket; everything pending fails with the error.
        case shutDown(AMQPClientError)
    }

    private(set) var state: State = .initialized
    private let requested: Tuning
    private let mechanism: String
    private let saslResponse: ByteBuffer
    private let clientProperties: AMQPFieldTable
    private let virtualHost: String
    /// Heartbeat ticks (each half an interval) since the last inbound frame.
    private var silentTicks = 0
    private var closeError: AMQPClientError?

    init(configuration: AMQPConnectionConfiguration) {
        self.requested = Tuning(
            channelMax: configuration.channelMax,
            frameMax: configuration.frameMax,
            heartbeat: configuration.heartbeat
        )
        self.mechanism = configuration.authMechanism.rawValue
        self.saslResponse = configuration.saslResponse
        self.clientProperties = configuration.clientProperties
        self.virtualHost = configuration.virtualHost
    }

    // MARK: Events

    mutating func connected() -> Action {
        switch self.state {
        case .initialized:
            self.state = .awaitingStart
            return .sendProtocolHeader
        case .awaitingStart, .awaitingTune, .awaitingOpenOk, .open, .closing, .closed:
            return .none
        }
    }

    mutating func frameReceived(_ frame: AMQPFrame) -> Action {
        self.silentTicks = 0
        guard case .method(0, let method) = frame else {
            switch frame {
            case .heartbeat:
                return .none
            case .method(let channel, _), .header(let channel, _), .body(let channel, _):
                guard channel != 0 else {
                    return self.violation("content frame on channel 0")
                }
                guard case .open = self.state else {
                    if case .closing = self.state { return .none }
                    return self.violation("channel frame before the connection is open")
                }
                return .forwardToChannel(channel, frame)
            }
        }
        guard case .connection(let connection) = method else {
            return self.violation("method \(method.ids) on channel 0")
        }
        return self.connectionMethodReceived(connection)
    }

    private mutating func connectionMethodReceived(_ method: AMQPMethod.Connection) -> Action {
        switch (self.state, method) {
        case (.awaitingStart, .start(let start)):
            guard start.versionMajor == 0, start.versionMinor == 9 else {
                return self.violation("broker speaks AMQP \(start.versionMajor)-\(start.versionMinor)")
            }
            let offered = start.mechanisms.split(separator: " ").map(String.init)
            guard offered.contains(self.mechanism) else {
                self.state = .closed
                return .shutDown(
                    AMQPClientError(
                        .authenticationFailed,
                        message: "the broker offers \(start.mechanisms), not \(self.mechanism)"
                    )
                )
            }
            self.state = .awaitingTune
            let startOk = AMQPMethod.Connection.StartOk(
                clientProperties: self.clientProperties,
                mechanism: self.mechanism,
                response: self.saslResponse,
                locale: "en_US"
            )
            return .sendFrames([.method(channel: 0, .connection(.startOk(startOk)))])
        case (.awaitingTune, .secure):
            return self.violation("PLAIN and AMQPLAIN take no challenge")
        case (.awaitingTune, .tune(let offered)):
            let tuning = Tuning(
                channelMax: Self.negotiate(self.requested.channelMax, offered.channelMax),
                frameMax: Self.negotiate(self.requested.frameMax, offered.frameMax),
                heartbeat: self.requested.heartbeat == 0
                    ? 0 : Self.negotiate(self.requested.heartbeat, offered.heartbeat)
            )
            self.state = .awaitingOpenOk(tuning)
            let tuneOk = AMQPMethod.Connection.Tune(
                channelMax: tuning.channelMax,
                frameMax: tuning.frameMax,
                heartbeat: tuning.heartbeat
            )
            return .tune(
                tuning,
                send: [
                    .method(channel: 0, .connection(.tuneOk(tuneOk))),
                    .method(channel: 0, .connection(.open(virtualHost: self.virtualHost))),
                ]
            )
        case (.awaitingOpenOk(let tuning), .openOk):
            self.state = .open(tuning)
            return .opened
        case (.open, .blocked(let reason)):
            return .blocked(reason: reason)
        case (.open, .unblocked):
            return .unblocked
        case (.open, .updateSecretOk):
            return .none
        case (.awaitingTune, .close(let close)):
            // RabbitMQ closes with 403 ACCESS_REFUSED after a bad start-ok (authentication_failure_close).
            self.state = .closed
            let code: AMQPClientError.Code = close.replyCode == 403 ? .authenticationFailed : .connectionClosedByServer
            return .acknowledgeCloseAndShutDown(
                AMQPClientError(code, replyCode: close.replyCode, replyText: close.replyText)
            )
        case (.awaitingStart, .close(let close)), (.awaitingOpenOk, .close(let close)), (.open, .close(let close)):
            self.state = .closed
            return .acknowledgeCloseAndShutDown(.closedByServer(close, channel: false))
        case (.closing, .close):
            // Both sides closed at once: answer and finish.
            self.state = .closed
            return .acknowledgeCloseAndShutDown(self.closeError ?? AMQPClientError(.connectionClosed))
        case (.closing, .closeOk):
            self.state = .closed
            return .shutDown(self.closeError ?? AMQPClientError(.connectionClosed))
        case (.closing, _):
            return .none
        case (.closed, _):
            return .none
        default:
            return self.violation("unexpected connection method \(method)")
        }
    }

    /// The client wants to close: polite `connection.close` when open, else just the socket.
    mutating func closeRequested() -> Action {
        switch self.state {
        case .open, .awaitingOpenOk:
            self.state = .closing
            self.closeError = AMQPClientError(.connectionClosed)
            return .sendCloseAndWait(AMQPClose(replyCode: 200, replyText: "Goodbye"))
        case .initialized, .awaitingStart, .awaitingTune:
            self.state = .closed
            return .shutDown(AMQPClientError(.connectionClosed))
        case .closing, .closed:
            return .none
        }
    }

    /// Fires every half heartbeat interval: send a heartbeat; after two silent intervals give up.
    mutating func heartbeatTimerFired() -> Action {
        guard case .open = self.state else { return .none }
        self.silentTicks += 1
        if self.silentTicks >= 4 {
            self.state = .closed
            return .shutDown(AMQPClientError(.heartbeatTimeout, message: "no frame from the broker for two intervals"))
        }
        return .sendHeartbeat
    }

    /// The socket closed.
    mutating func channelInactive() -> Action {
        switch self.state {
        case .closed:
            return .none
        case .initialized, .awaitingStart, .awaitingTune, .awaitingOpenOk, .open, .closing:
            let wasClosing = self.state == .closing
            self.state = .closed
            if wasClosing {
                return .shutDown(self.closeError ?? AMQPClientError(.connectionClosed))
            }
            return .shutDown(AMQPClientError(.connectionLost, message: "the socket closed"))
        }
    }

    /// A decoding or socket error.
    mutating func errorHappened(_ error: any Error) -> Action {
        switch self.state {
        case .closed:
            return .none
        case .initialized, .awaitingStart, .awaitingTune, .awaitingOpenOk, .open, .closing:
            if let protocolError = error as? AMQPProtocolError {
                return self.violation(protocolError.reason)
            }
            if let clientError = error as? AMQPClientError {
                self.state = .closed
                return .shutDown(clientError)
            }
            self.state = .closed
            return .shutDown(AMQPClientError(.connectionLost, underlying: error))
        }
    }

    /// A channel broke the protocol (a hard error for the whole connection).
    mutating func channelViolation(_ reason: String) -> Action {
        self.violation(reason)
    }

    private mutating func violation(_ reason: String) -> Action {
        switch self.state {
        case .open, .awaitingOpenOk:
            self.state = .closing
            self.closeError = AMQPClientError(.protocolViolation, message: reason)
            return .sendCloseAndWait(AMQPClose(replyCode: 505, replyText: "UNEXPECTED_FRAME"))
        case .initialized, .awaitingStart, .awaitingTune, .closing, .closed:
            self.state = .closed
            return .shutDown(AMQPClientError(.protocolViolation, message: reason))
        }
    }

    /// 0 means "no limit" on either side; otherwise the lower value wins.
    static func negotiate<Value: FixedWidthInteger>(_ client: Value, _ server: Value) -> Value {
        if client == 0 { return server }
        if server == 0 { return client }
        return min(client, server)
    }
}
