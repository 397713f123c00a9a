import ArgumentParser
import Foundation
import MongoStore

#if canImport(Glibc)
    import Glibc
#endif

extension DecodeAsyncBench {
    /// `decode-async-bench mongo`: insert and find throughput of MongoStore, with the process CPU time
    /// per operation (the figure that is ours alone: the local store is a Python server).
    struct Mongo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mongo",
            abstract: "insertOne, insertMany and findOne throughput against MONGO_URI."
        )

        @Option(help: "Documents per measurement.")
        var documents = 2000

        @Option(help: "Concurrent tasks issuing operations.")
        var concurrency = 8

        func run() async throws {
            let uri = BenchEnvironment.mongoURI
            let client = try MongoClient(uri: uri, database: "decode_async_bench", threads: self.concurrency)
            let collection = try client.collection("bench_\(UUID().uuidString.prefix(8).lowercased())")
            let count = self.documents
            let tasks = self.concurrency
            func document(_ index: Int) -> BSONDocument {
                [
                    "user_id": .objectID(.generate()), "type": .string("new_follow"),
                    "title": .string("You have a new follower"),
                    "message": .string("user \(index) just followed you"), "delivered": .bool(false),
                    "read": .bool(false),
                    "createdAt": .date(Date()), "__v": .int32(0),
                ]
            }

            var ids: [BSON] = []
            try await Self.measure("insertOne, \(tasks) tasks", operations: count) {
                ids = try await withThrowingTaskGroup(of: [BSON].self) { group in
                    for task in 0..<tasks {
                        group.addTask {
                            var ids: [BSON] = []
                            for index in stride(from: task, to: count, by: tasks) {
                                ids.append(try await collection.insertOne(document(index)))
                            }
                            return ids
                        }
                    }
                    return try await group.reduce(into: []) { $0 += $1 }
                }
            }
            try await Self.measure("insertMany, batches of 100", operations: count) {
                for start in stride(from: 0, to: count, by: 100) {
                    try await collection.insertMany((start..<min(start + 100, count)).map(document))
                }
            }
            let lookups = ids
            try await Self.measure("findOne by _id, \(tasks) tasks", operations: lookups.count) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for task in 0..<tasks {
                        group.addTask {
                            for index in stride(from: task, to: lookups.count, by: tasks) {
                                _ = try await collection.findOne(["_id": lookups[index]])
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            _ = try await collection.deleteMany(.all)
            try await client.shutdown()
        }

        static func measure(_ name: String, operations: Int, _ body: () async throws -> Void) async throws {
            let cpuStart = Self.cpuSeconds()
            let start = ContinuousClock.now
            try await body()
            BenchReport.print(
                name,
                count: operations,
                elapsed: ContinuousClock.now - start,
                cpuSeconds: Self.cpuSeconds() - cpuStart
            )
        }

        static func cpuSeconds() -> Double {
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
                + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        }
    }
}
