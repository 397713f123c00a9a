/// The life of one HTTP/1 server connection as ``HTTPLimits`` sees it: waiting for a head (a timer
/// runs), in a request (no timer: the body and the response take what they take), idle between
/// requests (a timer runs), or upgraded (out of the way). Pure: the channel handler feeds it events
/// and performs the actions it returns.
struct HTTPLimitsStateMachine: Equatable {
    enum Timer: Equatable {
        case head
        case idle
    }

    /// The answer written before closing a connection whose head is refused.
    enum Refusal: Equatable {
        /// 408: the head was not complete within the head timeout.
        case requestTimeout
        /// 431: the head is larger than the limit.
        case headerFieldsTooLarge
        /// 400: the head is not HTTP.
        case badRequest
    }

    enum Action: Equatable {
        case none
        /// Cancel any running timer and start this one.
        case startTimer(Timer)
        case cancelTimer
        /// Write the refusal with `Connection: close`, then close.
        case refuseAndClose(Refusal)
        case close
        /// Cancel the timer and leave the pipeline: the connection is no longer HTTP/1.
        case removeHandler
    }

    enum State: Equatable {
        /// Accepted, not one byte yet: the head timer runs from the accept.
        case awaitingFirstHead
        /// Bytes of a head arrived, the head is not complete: the head timer runs.
        case readingHead
        /// At least one request whose body is being read or whose response is not finished.
        case busy(pendingResponses: Int, readingBody: Bool)
        /// Between requests on a keep-alive connection: the idle timer runs.
        case idle
        case upgraded
        case closed
    }

    private(set) var state = State.awaitingFirstHead
    /// Whether the current read delivered request parts (then it was no partial head).
    private var partsInCurrentRead = false

    // MARK: Connection

    /// The connection is open: the head timer starts.
    mutating func connectionActivated() -> Action {
        switch self.state {
        case .awaitingFirstHead: .startTimer(.head)
        case .readingHead, .busy, .idle, .upgraded, .closed: .none
        }
    }

    mutating func connectionClosed() -> Action {
        switch self.state {
        case .closed: return .none
        case .awaitingFirstHead, .readingHead, .busy, .idle, .upgraded:
            self.state = .closed
            return .cancelTimer
        }
    }

    // MARK: Inbound

    /// A read from the socket ended. One that delivered no request part carried the start of a
    /// head: between requests, that starts the head timer.
    mutating func readCompleted() -> Action {
        defer { self.partsInCurrentRead = false }
        guard !self.partsInCurrentRead else { return .none }
        switch self.state {
        case .idle:
            self.state = .readingHead
            return .startTimer(.head)
        case .awaitingFirstHead:
            // The head timer already runs from the accept.
            self.state = .readingHead
            return .none
        case .readingHead, .busy, .upgraded, .closed:
            return .none
        }
    }

    /// The decoder delivered a complete head: no timer until the exchange is over.
    mutating func headReceived() -> Action {
        self.partsInCurrentRead = true
        switch self.state {
        case .awaitingFirstHead, .readingHead, .idle:
            self.state = .busy(pendingResponses: 1, readingBody: true)
            return .cancelTimer
        case .busy(let pending, _):
            // A pipelined request.
            self.state = .busy(pendingResponses: pending + 1, readingBody: true)
            return .none
        case .upgraded, .closed:
            return .none
        }
    }

    /// A body part of the current request.
    mutating func bodyReceived() -> Action {
        self.partsInCurrentRead = true
        return .none
    }

    /// The current request's end.
    mutating func requestEndReceived() -> Action {
        self.partsInCurrentRead = true
        switch self.state {
        case .busy(let pending, _):
            return self.enterBusyOrIdle(pendingResponses: pending, readingBody: false)
        case .awaitingFirstHead, .readingHead, .idle, .upgraded, .closed:
            return .none
        }
    }

    /// The decoder refused the bytes. Before a head is delivered the client gets a refusal and a
    /// close; in the middle of an exchange only a close (a response may be under way).
    mutating func parserErrorReceived(headTooLarge: Bool) -> Action {
        switch self.state {
        case .awaitingFirstHead, .readingHead, .idle:
            self.state = .closed
            return .refuseAndClose(headTooLarge ? .headerFieldsTooLarge : .badRequest)
        case .busy:
            self.state = .closed
            return .close
        case .upgraded, .closed:
            return .none
        }
    }

    // MARK: Outbound

    /// A response head is written; `101 Switching Protocols` hands the connection to another protocol.
    mutating func responseHeadSent(status: Int) -> Action {
        guard status == 101 else { return .none }
        switch self.state {
        case .closed, .upgraded: return .none
        case .awaitingFirstHead, .readingHead, .busy, .idle:
            self.state = .upgraded
            return .removeHandler
        }
    }

    /// A response ended: once every request is read and answered, the connection is idle.
    mutating func responseEndSent() -> Action {
        switch self.state {
        case .busy(let pending, let readingBody):
            return self.enterBusyOrIdle(pendingResponses: max(0, pending - 1), readingBody: readingBody)
        case .awaitingFirstHead, .readingHead, .idle, .upgraded, .closed:
            return .none
        }
    }

    // MARK: Timers

    mutating func timerFired(_ timer: Timer) -> Action {
        switch (self.state, timer) {
        case (.awaitingFirstHead, .head), (.idle, .idle):
            // Nothing was asked: close without an answer (nginx does the same).
            self.state = .closed
            return .close
        case (.readingHead, .head):
            self.state = .closed
            return .refuseAndClose(.requestTimeout)
        case (.awaitingFirstHead, .idle), (.readingHead, .idle), (.idle, .head), (.busy, _), (.upgraded, _),
            (.closed, _):
            // A timer that lost a race with the event that cancelled it.
            return .none
        }
    }

    private mutating func enterBusyOrIdle(pendingResponses: Int, readingBody: Bool) -> Action {
        if pendingResponses == 0, !readingBody {
            self.state = .idle
            return .startTimer(.idle)
        }
        self.state = .busy(pendingResponses: pendingResponses, readingBody: readingBody)
        return .none
    }
}
