import AMQPProtocol
import Foundation
import Synchronization
import Testing

@testable import Messaging

@Suite struct BatchAssemblyTests {
    @Test func aBatchIsWhatIsReadyUpToTheSize() {
        var assembly = BatchAssembly<Int>(maxSize: 3)
        for value in 1...7 { assembly.append(value) }
        guard case .batch(let first) = assembly.next(), case .batch(let second) = assembly.next(),
            case .batch(let third) = assembly.next()
        else {
            Issue.record("expected three batches")
            return
        }
        #expect(first == [1, 2, 3])
        #expect(second == [4, 5, 6])
        #expect(third == [7])
    }

    @Test func aLoneElementIsABatchAtOnceAndNothingReadyMeansWait() {
        var assembly = BatchAssembly<Int>(maxSize: 100)
        guard case .wait = assembly.next() else {
            Issue.record("nothing is ready: the loop must wait")
            return
        }
        assembly.append(42)
        guard case .batch(let batch) = assembly.next() else {
            Issue.record("a lone element must not wait for more")
            return
        }
        #expect(batch == [42])
        guard case .wait = assembly.next() else {
            Issue.record("nothing more is ready")
            return
        }
    }

    @Test func finishingHandsOutWhatIsReadyThenEnds() {
        var assembly = BatchAssembly<Int>(maxSize: 2)
        assembly.append(1)
        assembly.append(2)
        assembly.append(3)
        assembly.finish()
        assembly.append(4)
        guard case .batch(let first) = assembly.next(), case .batch(let second) = assembly.next(),
            case .end = assembly.next()
        else {
            Issue.record("expected two batches, then the end")
            return
        }
        #expect(first == [1, 2])
        #expect(second == [3])
    }

    @Test func aWaitingLoopWakesForTheNextElementAndEndsAtFinish() async {
        let batches = ReadyBatches<Int>(maxSize: 10)
        let loop = Task {
            var taken: [Int] = []
            while let batch = await batches.next() {
                taken += batch
            }
            return taken
        }
        batches.append(1)
        batches.append(2)
        batches.finish()
        #expect(await loop.value == [1, 2])
    }

    @Test func cancellingAWaitingLoopEndsIt() async {
        let batches = ReadyBatches<Int>(maxSize: 10)
        let loop = Task { await batches.next() }
        loop.cancel()
        #expect(await loop.value == nil)
    }
}

/// A batch handler settles each message alone: a payload that does not decode fails only its own
/// position, the others reach the body; what the body fails is reported with the message's type.
@Suite struct MessageBatchSettlementTests {
    struct Payload: Decodable, Sendable {
        var name: String
    }

    static func context(_ index: Int) -> MessageContext {
        MessageContext(
            queue: "q", pattern: "p", messageID: nil, redelivered: false, retryCount: 0, bodyHash: "h\(index)",
            properties: .init())
    }

    @Test func undecodableDataFailsAloneAndTheBodySettlesTheRest() async throws {
        let handler = MessageHandler(
            pattern: "p", payload: Payload.self, messageType: { $0.name },
            batch: { batch in
                #expect(batch.items.map(\.payload.name) == ["a", "c", "d"])
                await batch.succeed([0, 2])
                await batch.fail(1, MessageHandlingError.transient("store down"))
            })
        guard case .batch(let handle) = handler.body else {
            Issue.record("a batch handler")
            return
        }
        let bodies = [#"{"name":"a"}"#, #"{"name":7}"#, #"{"name":"c"}"#, #"{"name":"d"}"#].map {
            Data(#"{"pattern":"p","data":\#($0)}"#.utf8)
        }
        let settled = Mutex<[Int: String]>([:])
        let settler = BatchSettler { position, result in
            let text: String
            switch result {
            case .success(let outcome): text = "ok:\(outcome.messageType)"
            case .failure(let failure as HandlerFailure): text = "failed:\(failure.messageType)"
            case .failure(let error): text = "rejected:\(type(of: error))"
            }
            settled.withLock { $0[position] = text }
        }
        await handle(bodies.enumerated().map { (body: $1, context: Self.context($0)) }, settler)
        #expect(
            settled.withLock { $0 } == [0: "ok:a", 1: "rejected:MessageRejection", 2: "failed:c", 3: "ok:d"])
    }
}
