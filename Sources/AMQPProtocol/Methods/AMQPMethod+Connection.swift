import NIOCore

extension AMQPMethod {
    /// Class `connection` (10): handshake, tuning, close, flow control by the broker.
    public enum Connection: Sendable, Hashable {
        /// The broker's greeting: versions, properties and SASL mechanisms.
        case start(Start)
        /// The client's answer: properties, chosen mechanism and credentials.
        case startOk(StartOk)
        /// A further SASL challenge (unused by PLAIN and AMQPLAIN).
        case secure(challenge: ByteBuffer)
        /// The answer to a SASL challenge.
        case secureOk(response: ByteBuffer)
        /// The broker's proposed limits.
        case tune(Tune)
        /// The limits the client accepted (at most the broker's).
        case tuneOk(Tune)
        /// Opens a virtual host on the connection.
        case open(virtualHost: String)
        /// The virtual host is open; channels may be opened.
        case openOk
        /// Closes the connection, with a reply code and text.
        case close(AMQPClose)
        /// Confirms a `close`; the socket may be closed.
        case closeOk
        /// The broker stopped reading publishes (a memory or disk alarm; RabbitMQ extension).
        case blocked(reason: String)
        /// The broker reads publishes again.
        case unblocked
        /// Replaces the connection's credentials, e.g. a refreshed OAuth token (RabbitMQ extension).
        case updateSecret(newSecret: ByteBuffer, reason: String)
        /// The broker accepted the new secret.
        case updateSecretOk

        /// The arguments of `connection.start`, the broker's first method: its version, properties and SASL mechanisms.
        public struct Start: Sendable, Hashable {
            /// The protocol's major version; 0 for 0-9-1.
            public var versionMajor: UInt8
            /// The protocol's minor version; 9 for 0-9-1.
            public var versionMinor: UInt8
            /// The broker's product, version and capabilities (e.g. `publisher_confirms`).
            public var serverProperties: AMQPFieldTable
            /// Space-separated SASL mechanisms, e.g. `AMQPLAIN PLAIN`.
            public var mechanisms: String
            /// Space-separated message locales the broker offers, e.g. `en_US`.
            public var locales: String

            /// Creates start arguments for AMQP 0-9-1.
            public init(
                versionMajor: UInt8 = 0,
                versionMinor: UInt8 = 9,
                serverProperties: AMQPFieldTable,
                mechanisms: String,
                locales: String
            ) {
                self.versionMajor = versionMajor
                self.versionMinor = versionMinor
                self.serverProperties = serverProperties
                self.mechanisms = mechanisms
                self.locales = locales
            }
        }

        /// The arguments of `connection.start-ok`: the client's properties, chosen mechanism and credentials.
        public struct StartOk: Sendable, Hashable {
            /// The client's product, version and capabilities, shown by the broker's management UI.
            public var clientProperties: AMQPFieldTable
            /// The SASL mechanism chosen from the broker's list, e.g. `PLAIN`.
            public var mechanism: String
            /// The SASL response; holds credentials, never log it.
            public var response: ByteBuffer
            /// The chosen message locale, e.g. `en_US`.
            public var locale: String

            /// Creates start-ok arguments.
            public init(clientProperties: AMQPFieldTable, mechanism: String, response: ByteBuffer, locale: String) {
                self.clientProperties = clientProperties
                self.mechanism = mechanism
                self.response = response
                self.locale = locale
            }
        }

        /// The arguments of `connection.tune` and `tune-ok`: channel, frame-size and heartbeat limits.
        public struct Tune: Sendable, Hashable {
            /// The highest channel number; 0 means no limit other than 65535.
            public var channelMax: UInt16
            /// The largest frame in bytes, header and frame-end included; 0 means no limit.
            public var frameMax: UInt32
            /// Seconds; 0 disables heartbeats.
            public var heartbeat: UInt16

            /// Creates tune arguments.
            public init(channelMax: UInt16, frameMax: UInt32, heartbeat: UInt16) {
                self.channelMax = channelMax
                self.frameMax = frameMax
                self.heartbeat = heartbeat
            }
        }

        var methodID: UInt16 {
            switch self {
            case .start: 10
            case .startOk: 11
            case .secure: 20
            case .secureOk: 21
            case .tune: 30
            case .tuneOk: 31
            case .open: 40
            case .openOk: 41
            case .close: 50
            case .closeOk: 51
            case .blocked: 60
            case .unblocked: 61
            case .updateSecret: 70
            case .updateSecretOk: 71
            }
        }

        func encodeArguments(into buffer: inout ByteBuffer) throws(AMQPProtocolError) {
            switch self {
            case .start(let start):
                buffer.writeInteger(start.versionMajor)
                buffer.writeInteger(start.versionMinor)
                try buffer.writeAMQPTable(start.serverProperties)
                buffer.writeAMQPLongString(start.mechanisms)
                buffer.writeAMQPLongString(start.locales)
            case .startOk(let startOk):
                try buffer.writeAMQPTable(startOk.clientProperties)
                try buffer.writeAMQPShortString(startOk.mechanism)
                buffer.writeAMQPLongBytes(startOk.response)
                try buffer.writeAMQPShortString(startOk.locale)
            case .secure(let bytes), .secureOk(let bytes):
                buffer.writeAMQPLongBytes(bytes)
            case .tune(let tune), .tuneOk(let tune):
                buffer.writeInteger(tune.channelMax)
                buffer.writeInteger(tune.frameMax)
                buffer.writeInteger(tune.heartbeat)
            case .open(let virtualHost):
                try buffer.writeAMQPShortString(virtualHost)
                try buffer.writeAMQPShortString("")  // capabilities (reserved)
                buffer.writeAMQPBits(false)  // insist (reserved)
            case .openOk:
                try buffer.writeAMQPShortString("")
            case .close(let close):
                try close.encode(into: &buffer)
            case .blocked(let reason):
                try buffer.writeAMQPShortString(reason)
            case .updateSecret(let newSecret, let reason):
                buffer.writeAMQPLongBytes(newSecret)
                try buffer.writeAMQPShortString(reason)
            case .closeOk, .unblocked, .updateSecretOk:
                break
            }
        }

        static func decode(methodID: UInt16, from buffer: inout ByteBuffer) throws(AMQPProtocolError) -> Connection {
            switch methodID {
            case 10:
                return .start(
                    Start(
                        versionMajor: try buffer.readAMQPOctet(),
                        versionMinor: try buffer.readAMQPOctet(),
                        serverProperties: try buffer.readAMQPTable(),
                        mechanisms: try buffer.readAMQPLongString(),
                        locales: try buffer.readAMQPLongString()
                    )
                )
            case 11:
                return .startOk(
                    StartOk(
                        clientProperties: try buffer.readAMQPTable(),
                        mechanism: try buffer.readAMQPShortString(),
                        response: try buffer.readAMQPLongBytes(),
                        locale: try buffer.readAMQPShortString()
                    )
                )
            case 20: return .secure(challenge: try buffer.readAMQPLongBytes())
            case 21: return .secureOk(response: try buffer.readAMQPLongBytes())
            case 30, 31:
                let tune = Tune(
                    channelMax: try buffer.readAMQPShort(),
                    frameMax: try buffer.readAMQPLong(),
                    heartbeat: try buffer.readAMQPShort()
                )
                return methodID == 30 ? .tune(tune) : .tuneOk(tune)
            case 40:
                let virtualHost = try buffer.readAMQPShortString()
                _ = try buffer.readAMQPShortString()
                _ = try buffer.readAMQPOctet()
                return .open(virtualHost: virtualHost)
            case 41:
                _ = try buffer.readAMQPShortString()
                return .openOk
            case 50: return .close(try AMQPClose.decode(from: &buffer))
            case 51: return .closeOk
            case 60: return .blocked(reason: try buffer.readAMQPShortString())
            case 61: return .unblocked
            case 70:
                return .updateSecret(
                    newSecret: try buffer.readAMQPLongBytes(), reason: try buffer.readAMQPShortString())
            case 71: return .updateSecretOk
            default: throw AMQPMethod.unknown("connection", methodID)
            }
        }
    }

    /// Class `channel` (20).
    public enum Channel: Sendable, Hashable {
        /// Opens a channel.
        case open
        /// The channel is open.
        case openOk
        /// Asks the peer to pause (`false`) or resume (`true`) sending content.
        case flow(active: Bool)
        /// Confirms a `flow` request.
        case flowOk(active: Bool)
        /// Closes the channel, with a reply code and text; a broker close is a channel error such as 404.
        case close(AMQPClose)
        /// Confirms a channel `close`; the channel number may be reused.
        case closeOk

        var methodID: UInt16 {
            switch self {
            case .open: 10
            case .openOk: 11
            case .flow: 20
            case .flowOk: 21
            case .close: 40
            case .closeOk: 41
            }
        }

        func encodeArguments(into buffer: inout ByteBuffer) throws(AMQPProtocolError) {
            switch self {
            case .open: try buffer.writeAMQPShortString("")
            case .openOk: buffer.writeAMQPLongString("")
            case .flow(let active), .flowOk(let active): buffer.writeAMQPBits(active)
            case .close(let close): try close.encode(into: &buffer)
            case .closeOk: break
            }
        }

        static func decode(methodID: UInt16, from buffer: inout ByteBuffer) throws(AMQPProtocolError) -> Channel {
            switch methodID {
            case 10:
                _ = try buffer.readAMQPShortString()
                return .open
            case 11:
                _ = try buffer.readAMQPLongBytes()
                return .openOk
            case 20: return .flow(active: try buffer.readAMQPBits(1)[0])
            case 21: return .flowOk(active: try buffer.readAMQPBits(1)[0])
            case 40: return .close(try AMQPClose.decode(from: &buffer))
            case 41: return .closeOk
            default: throw AMQPMethod.unknown("channel", methodID)
            }
        }
    }

    /// Class `confirm` (85): publisher confirms.
    public enum Confirm: Sendable, Hashable {
        /// Puts the channel in confirm mode: the broker acks (or nacks) every publish.
        case select(noWait: Bool)
        /// The channel is in confirm mode.
        case selectOk

        var methodID: UInt16 {
            switch self {
            case .select: 10
            case .selectOk: 11
            }
        }

        func encodeArguments(into buffer: inout ByteBuffer) {
            if case .select(let noWait) = self {
                buffer.writeAMQPBits(noWait)
            }
        }

        static func decode(methodID: UInt16, from buffer: inout ByteBuffer) throws(AMQPProtocolError) -> Confirm {
            switch methodID {
            case 10: return .select(noWait: try buffer.readAMQPBits(1)[0])
            case 11: return .selectOk
            default: throw AMQPMethod.unknown("confirm", methodID)
            }
        }
    }

    /// Class `tx` (90): transactions (decoded for completeness; decode-async uses confirms).
    public enum Tx: Sendable, Hashable {
        /// `tx.select`/`select-ok`, `commit`/`commit-ok` and `rollback`/`rollback-ok`; none carries arguments.
        case select, selectOk, commit, commitOk, rollback, rollbackOk

        var methodID: UInt16 {
            switch self {
            case .select: 10
            case .selectOk: 11
            case .commit: 20
            case .commitOk: 21
            case .rollback: 30
            case .rollbackOk: 31
            }
        }

        static func decode(methodID: UInt16, from buffer: inout ByteBuffer) throws(AMQPProtocolError) -> Tx {
            switch methodID {
            case 10: return .select
            case 11: return .selectOk
            case 20: return .commit
            case 21: return .commitOk
            case 30: return .rollback
            case 31: return .rollbackOk
            default: throw AMQPMethod.unknown("tx", methodID)
            }
        }
    }
}
