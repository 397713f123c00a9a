import NIOCore

/// What the connection asks its channel handler to do; the promise completes with the outcome.
enum SMTPRequest: Sendable {
    case send(SMTPTransaction, EventLoopPromise<SMTPCompletion>)
    case reset(EventLoopPromise<SMTPCompletion>)
    case quit(EventLoopPromise<SMTPCompletion>)
}
