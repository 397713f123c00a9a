/// The records of one statement as an `AsyncSequence`: the first batch came with RUN, further ones are
/// pulled (`PULL n`) as the iteration reaches them. Iterate it once, before the next statement on the
/// same connection (which discards what is left).
public struct BoltResult: AsyncSequence, Sendable {
    /// Each element is one record (row) of the statement's result.
    public typealias Element = BoltRecord

    /// The column names.
    public let keys: [String]
    let connection: BoltConnection
    let firstBatch: [[BoltValue]]
    let hasMore: Bool
    /// The final metadata when the first batch was all (`stats`, `bookmark`, ...).
    public let summary: [String: BoltValue]?
    let fetchSize: Int64

    /// Walks the records, sending `PULL` for the next batch when the current one is used up.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let keys: [String]
        let connection: BoltConnection
        let fetchSize: Int64
        var batch: [[BoltValue]]
        var index = 0
        var hasMore: Bool

        /// The next record, or `nil` after the last.
        /// - Throws: ``BoltError`` when pulling the next batch fails (the statement's error surfaces here).
        public mutating func next() async throws(BoltError) -> BoltRecord? {
            while self.index >= self.batch.count {
                guard self.hasMore else { return nil }
                // Not `pipeline`: that would discard this very stream first.
                let summary = try await self.connection.request(.pull(n: self.fetchSize, qid: -1))
                self.hasMore = summary.metadata["has_more"]?.boolValue ?? false
                self.connection.markStream(open: self.hasMore)
                self.batch = summary.records
                self.index = 0
            }
            defer { self.index += 1 }
            return BoltRecord(keys: self.keys, values: self.batch[self.index])
        }
    }

    /// Starts at the first record of the batch that came with RUN.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(
            keys: self.keys, connection: self.connection, fetchSize: self.fetchSize, batch: self.firstBatch,
            hasMore: self.hasMore)
    }

    /// Every record, pulled to the end.
    public func collect() async throws(BoltError) -> [BoltRecord] {
        var records: [BoltRecord] = []
        var iterator = self.makeAsyncIterator()
        while let record = try await iterator.next() {
            records.append(record)
        }
        return records
    }

    /// The first record, discarding the rest.
    public func first() async throws(BoltError) -> BoltRecord? {
        var iterator = self.makeAsyncIterator()
        return try await iterator.next()
    }
}

/// A transaction handed to ``BoltClient/withTransaction(database:write:maximumRetryTime:_:)``: run
/// statements in it; the client commits when the body returns and rolls back when it throws.
public struct BoltTransaction: Sendable {
    /// The connection the transaction runs on; valid only inside the transaction's body.
    public let connection: BoltConnection

    /// Runs a statement inside the transaction.
    public func run(_ query: String, parameters: [String: BoltValue] = [:]) async throws(BoltError) -> BoltResult {
        try await self.connection.run(query, parameters: parameters)
    }
}
