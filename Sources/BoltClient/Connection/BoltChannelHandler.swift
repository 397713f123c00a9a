import DequeModule
import NIOCore

/// One request's outcome: the summary metadata and, for PULL, the records streamed before it.
public struct BoltSummary: Sendable, Equatable {
    /// The SUCCESS metadata, e.g. `fields` after RUN, `has_more`, `bookmark` or `stats` after PULL.
    public var metadata: [String: BoltValue]
    /// The RECORD messages that came before the summary, each a list of field values.
    public var records: [[BoltValue]]

    /// Creates a summary.
    public init(metadata: [String: BoltValue], records: [[BoltValue]] = []) {
        self.metadata = metadata
        self.records = records
    }
}

/// Requests written together (pipelined), each with the promise of its summary.
struct BoltOutbound {
    var requests: [BoltRequest]
    var promises: [EventLoopPromise<BoltSummary>]
}

/// Sends the handshake, frames requests, decodes responses, and runs each through the state machine;
/// it only executes the actions the machine returns.
final class BoltChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = BoltOutbound
    typealias OutboundOut = ByteBuffer

    private var machine: BoltConnectionStateMachine
    private let proposals: [BoltHandshake.Proposal]
    private var decoder = NIOSingleStepByteToMessageProcessor(BoltFrameDecoder())
    /// Promises in the order of the machine's pending requests; nil for the machine's own RESETs.
    private var promises = Deque<EventLoopPromise<BoltSummary>?>()
    private var records: [[BoltValue]] = []
    private var closedError: BoltError?
    let negotiated: EventLoopPromise<BoltVersion>
    let closed: EventLoopPromise<BoltError>

    init(eventLoop: any EventLoop, proposals: [BoltHandshake.Proposal] = BoltHandshake.proposals) {
        self.proposals = proposals
        self.machine = BoltConnectionStateMachine(proposals: proposals)
        self.negotiated = eventLoop.makePromise()
        self.closed = eventLoop.makePromise()
    }

    func channelActive(context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 20)
        BoltHandshake.encodeProposal(self.proposals, into: &buffer)
        context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
        context.fireChannelActive()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let outbound = self.unwrapOutboundIn(data)
        let encoder = PackStreamEncoder(elementIDs: self.machine.version?.hasElementIDs ?? true)
        var buffer = context.channel.allocator.buffer(capacity: 256)
        var message = context.channel.allocator.buffer(capacity: 256)
        for (request, requestPromise) in zip(outbound.requests, outbound.promises) {
            switch self.machine.requestSent(request.kind) {
            case .send:
                message.clear()
                request.encode(into: &message, encoder: encoder)
                BoltFrameEncoder.writeChunked(message, into: &buffer)
                if request.kind == .goodbye {
                    requestPromise.succeed(BoltSummary(metadata: [:]))
                } else {
                    self.promises.append(requestPromise)
                }
            case .refuse(let error):
                requestPromise.fail(self.closedError ?? error)
            }
        }
        context.write(self.wrapOutboundOut(buffer), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            try self.decoder.process(buffer: self.unwrapInboundIn(data)) { frame in
                switch frame {
                case .version(let version):
                    self.run(self.machine.versionReceived(version), context: context)
                    if self.machine.version != nil {
                        self.negotiated.succeed(version)
                    }
                case .message(var message):
                    let response = try BoltResponse.decode(from: &message)
                    self.received(response, context: context)
                }
            }
        } catch {
            self.fail(BoltError(.protocolViolation, "\(error)"), context: context)
        }
    }

    private func received(_ response: BoltResponse, context: ChannelHandlerContext) {
        let action: BoltConnectionStateMachine.Action
        switch response {
        case .success(let metadata): action = self.machine.successReceived(metadata)
        case .record(let values): action = self.machine.recordReceived(values)
        case .ignored: action = self.machine.ignoredReceived()
        case .failure(let metadata): action = self.machine.failureReceived(metadata)
        }
        self.run(action, context: context)
    }

    private func run(_ action: BoltConnectionStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .internalResetCompleted:
            _ = self.promises.popFirst()
        case .deliverRecord(let values):
            self.records.append(values)
        case .succeedRequest(let metadata):
            let records = self.records
            self.records = []
            self.promises.popFirst()??.succeed(BoltSummary(metadata: metadata, records: records))
        case .failRequest(let error, let sendReset):
            self.records = []
            self.promises.popFirst()??.fail(error)
            if sendReset {
                self.promises.append(nil)
                var message = context.channel.allocator.buffer(capacity: 4)
                BoltRequest.reset.encode(into: &message, encoder: PackStreamEncoder())
                var buffer = context.channel.allocator.buffer(capacity: 8)
                BoltFrameEncoder.writeChunked(message, into: &buffer)
                context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
            }
        case .closeConnection(let error):
            self.fail(error, context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.fail(BoltError(.connectionClosed, "the connection closed"), context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.fail(BoltError(.connectionClosed, "\(error)"), context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.fail(BoltError(.connectionClosed, "the connection closed"), context: context)
    }

    /// Whether the server is idle and outside a transaction (for returning a connection to a pool).
    var isIdle: Bool { self.machine.isIdle }

    private func fail(_ error: BoltError, context: ChannelHandlerContext) {
        guard self.closedError == nil else { return }
        self.closedError = error
        self.machine.connectionClosed()
        while let promise = self.promises.popFirst() {
            promise?.fail(error)
        }
        self.negotiated.fail(error)
        self.closed.succeed(error)
        context.close(promise: nil)
    }
}
