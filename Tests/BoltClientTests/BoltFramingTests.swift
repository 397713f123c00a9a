import NIOCore
import NIOTestUtils
import Testing

@testable import BoltClient

@Suite struct BoltFramingTests {
    @Test func handshakeOffersBolt5RangeAndBolt44() {
        var buffer = ByteBuffer()
        BoltHandshake.encodeProposal(into: &buffer)
        #expect(
            Array(buffer.readableBytesView) == [
                0x60, 0x60, 0xB0, 0x17, 0, 4, 4, 5, 0, 0, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0,
            ])
        #expect(BoltHandshake.isOffered(BoltVersion(5, 0)))
        #expect(BoltHandshake.isOffered(BoltVersion(5, 4)))
        #expect(BoltHandshake.isOffered(BoltVersion(4, 4)))
        #expect(!BoltHandshake.isOffered(BoltVersion(4, 3)))
        #expect(!BoltHandshake.isOffered(BoltVersion(5, 5)))
    }

    @Test func splitsLargeMessagesIntoChunksAndEndsWithAMarker() {
        var message = ByteBuffer()
        message.writeBytes(Array(repeating: 7, count: 70_000))
        var framed = ByteBuffer()
        BoltFrameEncoder.writeChunked(message, into: &framed)
        #expect(framed.readableBytes == 2 + 65_535 + 2 + 4_465 + 2)
        #expect(framed.getInteger(at: 0, as: UInt16.self) == 65_535)
        #expect(framed.getInteger(at: 65_537, as: UInt16.self) == 4_465)
        #expect(framed.getInteger(at: framed.writerIndex - 2, as: UInt16.self) == 0)
    }

    @Test func decoderReadsTheVersionThenJoinsChunksAndSkipsNoops() throws {
        var message = ByteBuffer()
        BoltResponse.success(["fields": ["x"]]).encode(into: &message)
        var inbound = ByteBuffer(bytes: [0, 0, 4, 4])
        inbound.writeBytes([0, 0])  // NOOP
        let bytes = Array(message.readableBytesView)
        inbound.writeInteger(UInt16(2))
        inbound.writeBytes(bytes.prefix(2))
        inbound.writeInteger(UInt16(bytes.count - 2))
        inbound.writeBytes(bytes.dropFirst(2))
        inbound.writeInteger(UInt16(0))
        // Whole, then one byte at a time: the same frames either way.
        for split in [false, true] {
            var processor = NIOSingleStepByteToMessageProcessor(BoltFrameDecoder())
            var frames: [BoltFrameDecoder.Frame] = []
            let pieces = split ? inbound.readableBytesView.map { ByteBuffer(bytes: [$0]) } : [inbound]
            for piece in pieces {
                try processor.process(buffer: piece) { frames.append($0) }
            }
            #expect(frames == [.version(BoltVersion(4, 4)), .message(ByteBuffer(bytes: bytes))])
        }
    }
}
