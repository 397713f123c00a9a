/// Matches inbound values to requests: RESP replies answer requests in the order they were sent;
/// RESP3 push values (pub/sub messages and subscription confirmations) are out of band.
/// Pure, so it is tested without I/O.
struct RedisReplyRouter {
    enum Route: Equatable {
        case reply(RESPValue)
        case push(RESPValue)
        /// A reply nobody asked for: the connection is out of step and must close.
        case unexpected(RESPValue)
    }

    private(set) var outstanding = 0

    mutating func requestSent() {
        self.outstanding += 1
    }

    mutating func received(_ value: RESPValue) -> Route {
        if case .push = value {
            return .push(value)
        }
        guard self.outstanding > 0 else { return .unexpected(value) }
        self.outstanding -= 1
        return .reply(value)
    }
}
