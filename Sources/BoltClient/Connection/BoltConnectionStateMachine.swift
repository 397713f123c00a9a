import DequeModule

/// The Bolt server state as the client sees it, driven by events, with no I/O (tested alone).
///
/// Requests may be pipelined: each one sent waits in `pending` for its summary (SUCCESS, FAILURE or
/// IGNORED), and RECORDs belong to the PULL at the head. After a FAILURE the server ignores everything
/// until RESET, so once the pipeline has drained the machine asks for a RESET itself.
struct BoltConnectionStateMachine {
    enum State: Equatable {
        /// The preamble is sent; the server's version choice is awaited.
        case negotiating
        /// Version agreed, HELLO not yet answered.
        case connected(BoltVersion)
        /// Bolt 5.1+: HELLO done, LOGON not yet answered.
        case authentication(BoltVersion)
        case ready(BoltVersion)
        case streaming(BoltVersion)
        case txReady(BoltVersion)
        case txStreaming(BoltVersion)
        /// A request failed; the server ignores everything until RESET.
        case failed(BoltVersion)
        /// Closed by GOODBYE, a protocol violation or the peer.
        case defunct
    }

    enum Action: Equatable {
        case none
        /// The RESET the machine sent itself was answered.
        case internalResetCompleted
        case deliverRecord([BoltValue])
        /// The request at the head succeeded.
        case succeedRequest([String: BoltValue])
        /// The request at the head failed; when `sendReset`, write a RESET now (the pipeline has drained).
        case failRequest(BoltError, sendReset: Bool)
        /// Fail everything pending and close the channel.
        case closeConnection(BoltError)
    }

    enum SendDecision: Equatable {
        case send
        case refuse(BoltError)
    }

    private(set) var state: State = .negotiating
    /// Requests sent and not yet summarised; `internal` marks the RESETs the machine sent itself.
    private(set) var pending = Deque<(kind: BoltRequest.Kind, isInternal: Bool)>()
    private var resetInFlight = false
    private let proposals: [BoltHandshake.Proposal]

    init(proposals: [BoltHandshake.Proposal] = BoltHandshake.proposals) {
        self.proposals = proposals
    }

    var version: BoltVersion? {
        switch self.state {
        case .negotiating, .defunct: nil
        case .connected(let version), .authentication(let version), .ready(let version), .streaming(let version),
            .txReady(let version), .txStreaming(let version), .failed(let version):
            version
        }
    }

    /// Whether the connection can take a new unit of work (idle, outside a transaction, nothing pending).
    var isIdle: Bool {
        if case .ready = self.state, self.pending.isEmpty { return true }
        return false
    }

    // MARK: Events

    mutating func versionReceived(_ version: BoltVersion) -> Action {
        guard case .negotiating = self.state else {
            return self.violation("a second version answer")
        }
        guard version != BoltVersion(0, 0), BoltHandshake.isOffered(version, in: self.proposals) else {
            self.state = .defunct
            return .closeConnection(
                BoltError(.unsupportedVersion, "the server speaks none of the offered versions (answered \(version))"))
        }
        self.state = .connected(version)
        return .none
    }

    /// Called before writing a request; a defunct connection refuses.
    mutating func requestSent(_ kind: BoltRequest.Kind) -> SendDecision {
        switch self.state {
        case .negotiating:
            return .refuse(BoltError(.protocolViolation, "a request before the handshake finished"))
        case .defunct:
            return .refuse(BoltError(.connectionClosed, "the connection is closed"))
        case .connected, .authentication, .ready, .streaming, .txReady, .txStreaming, .failed:
            self.pending.append((kind, false))
            if kind == .reset { self.resetInFlight = true }
            if kind == .goodbye {
                // No answer to GOODBYE: the server closes.
                self.pending.removeLast()
                self.state = .defunct
            }
            return .send
        }
    }

    mutating func recordReceived(_ values: [BoltValue]) -> Action {
        guard let head = self.pending.first, head.kind == .pull else {
            return self.violation("a RECORD without a PULL")
        }
        return .deliverRecord(values)
    }

    mutating func successReceived(_ metadata: [String: BoltValue]) -> Action {
        guard let head = self.pending.popFirst() else { return self.violation("a SUCCESS without a request") }
        guard let version = self.version else { return self.violation("a SUCCESS before the handshake") }
        let hasMore = metadata["has_more"]?.boolValue ?? false
        switch (head.kind, self.state) {
        case (.hello, .connected):
            self.state = version.usesLogon ? .authentication(version) : .ready(version)
        case (.logon, .authentication):
            self.state = .ready(version)
        case (.logoff, _):
            self.state = .authentication(version)
        case (.reset, _):
            self.resetInFlight = self.pending.contains { $0.kind == .reset }
            self.state = .ready(version)
        case (.run, .ready):
            self.state = .streaming(version)
        case (.run, .txReady):
            self.state = .txStreaming(version)
        case (.pull, .streaming), (.discard, .streaming):
            self.state = hasMore ? .streaming(version) : .ready(version)
        case (.pull, .txStreaming), (.discard, .txStreaming):
            self.state = hasMore ? .txStreaming(version) : .txReady(version)
        case (.begin, .ready):
            self.state = .txReady(version)
        case (.commit, .txReady), (.rollback, .txReady):
            self.state = .ready(version)
        case (.route, .ready):
            break
        case (.hello, _), (.logon, _), (.run, _), (.pull, _), (.discard, _), (.begin, _), (.commit, _),
            (.rollback, _), (.route, _), (.goodbye, _):
            return self.violation("SUCCESS for \("\(head.kind)".uppercased()) in state \(self.state)")
        }
        return head.isInternal ? .internalResetCompleted : .succeedRequest(metadata)
    }

    mutating func failureReceived(_ metadata: [String: BoltValue]) -> Action {
        guard let head = self.pending.popFirst() else { return self.violation("a FAILURE without a request") }
        let error = BoltError.failure(metadata)
        switch head.kind {
        case .hello, .logon, .reset:
            // The server closes the connection after a failed login or a failed RESET.
            self.state = .defunct
            return .closeConnection(error)
        case .logoff, .goodbye, .run, .begin, .commit, .rollback, .discard, .pull, .route:
            guard let version = self.version else { return self.violation("a FAILURE before the handshake") }
            self.state = .failed(version)
            return .failRequest(error, sendReset: self.queueResetIfDrained())
        }
    }

    mutating func ignoredReceived() -> Action {
        guard let head = self.pending.popFirst() else { return self.violation("IGNORED without a request") }
        let error = BoltError(.ignored, "ignored: an earlier request in the pipeline failed")
        if head.isInternal { return .internalResetCompleted }
        return .failRequest(error, sendReset: self.queueResetIfDrained())
    }

    /// The channel closed or errored.
    mutating func connectionClosed() {
        self.state = .defunct
        self.pending.removeAll()
    }

    // MARK: Helpers

    /// In FAILED with nothing left in the pipeline and no RESET on its way: send one now.
    private mutating func queueResetIfDrained() -> Bool {
        guard case .failed = self.state, !self.resetInFlight, !self.pending.contains(where: { $0.kind == .reset })
        else {
            return false
        }
        guard self.pending.isEmpty else { return false }
        self.pending.append((.reset, true))
        self.resetInFlight = true
        return true
    }

    private mutating func violation(_ reason: String) -> Action {
        self.state = .defunct
        self.pending.removeAll()
        return .closeConnection(BoltError(.protocolViolation, reason))
    }
}
