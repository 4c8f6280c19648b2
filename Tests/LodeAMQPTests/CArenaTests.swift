import Testing
@testable import LodeAMQP

@Suite struct CArenaTests {
    /// A byte pattern that differs per allocation and per offset.
    func pattern(_ allocation: Int, _ offset: Int) -> UInt8 { UInt8(truncatingIfNeeded: allocation &* 31 &+ offset &* 7 &+ 1) }

    @Test func manyAllocationsAcrossChunkBoundariesKeepTheirContents() {
        let arena = CArena(chunkSize: 256)
        var generator = SplitMix64(seed: 11)
        var blocks: [(pointer: UnsafeMutableRawPointer, count: Int, alignment: Int)] = []
        for index in 0..<2000 {
            let count = Int.random(in: 0...64, using: &generator)
            let alignment = [1, 2, 4, 8, 16].randomElement(using: &generator)!
            let pointer = arena.allocate(byteCount: count, alignment: alignment)
            for offset in 0..<count { pointer.storeBytes(of: pattern(index, offset), toByteOffset: offset, as: UInt8.self) }
            blocks.append((pointer, count, alignment))
        }
        for (index, block) in blocks.enumerated() {
            #expect(Int(bitPattern: block.pointer) % block.alignment == 0, "allocation \(index) misaligned")
            for offset in 0..<block.count where block.pointer.load(fromByteOffset: offset, as: UInt8.self) != pattern(index, offset) {
                Issue.record("allocation \(index) lost its contents at offset \(offset)")
                break
            }
        }
        // No two allocations overlap.
        let ranges = blocks.map { Int(bitPattern: $0.pointer)..<(Int(bitPattern: $0.pointer) + max($0.count, 1)) }
            .sorted { $0.lowerBound < $1.lowerBound }
        for (first, second) in zip(ranges, ranges.dropFirst()) {
            #expect(first.upperBound <= second.lowerBound)
        }
    }

    @Test func typedAllocationsAreAlignedForTheirType() {
        let arena = CArena(chunkSize: 128)
        for _ in 0..<100 {
            _ = arena.allocate(byteCount: 3, alignment: 1)
            let words = arena.allocate(UInt64.self, count: 2)
            #expect(Int(bitPattern: words) % MemoryLayout<UInt64>.alignment == 0)
            words[0] = .max
            words[1] = 7
            #expect(words[0] == .max && words[1] == 7)
        }
    }

    @Test func oversizedAllocationsKeepTheirContents() {
        let arena = CArena(chunkSize: 256)
        var blocks: [(UnsafeMutableRawPointer, Int)] = []
        for index in 0..<20 {
            // Alternate small ones (in chunks) and ones over a quarter chunk (allocated alone).
            let count = index.isMultiple(of: 2) ? 40 : 65 + index * 1000
            let pointer = arena.allocate(byteCount: count)
            for offset in 0..<count { pointer.storeBytes(of: pattern(index, offset), toByteOffset: offset, as: UInt8.self) }
            blocks.append((pointer, count))
        }
        for (index, (pointer, count)) in blocks.enumerated() {
            #expect((0..<count).allSatisfy { pointer.load(fromByteOffset: $0, as: UInt8.self) == pattern(index, $0) })
        }
    }

    @Test func oversizedBytesAreCopiedWhole() {
        let arena = CArena(chunkSize: 1024)
        let big = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let bytes = arena.bytes(big)
        #expect(bytes.len == big.count)
        #expect(bytes.array == big)
    }

    @Test func resetReusesTheFirstChunk() {
        let arena = CArena(chunkSize: 256)
        let first = arena.allocate(byteCount: 16)
        for _ in 0..<100 { _ = arena.allocate(byteCount: 50) }
        _ = arena.allocate(byteCount: 10_000)
        arena.reset()
        #expect(arena.allocate(byteCount: 16) == first)
        arena.reset()
        #expect(arena.allocate(byteCount: 60) == first)
    }

    @Test func resetArenaServesManyRoundsWithoutLosingContents() {
        let arena = CArena(chunkSize: 512)
        for round in 0..<50 {
            let table: FieldTable = [
                "round": .int64(Int64(round)),
                "payload": .string(String(repeating: "值", count: round * 10)),
                "x-death": Samples.xDeath["x-death"]!,
            ]
            #expect(FieldTable(copying: table.cTable(in: arena)) == table)
            arena.reset()
        }
    }

    @Test func zeroByteAllocationsAreDistinct() {
        let arena = CArena(chunkSize: 64)
        let a = arena.allocate(byteCount: 0, alignment: 1)
        let b = arena.allocate(byteCount: 0, alignment: 1)
        #expect(a != b)
    }

    @Test func stringBytesAreACopyOfTheUTF8() {
        let arena = CArena()
        let text = "lode 项目 ✓"
        let bytes = arena.bytes(text)
        #expect(bytes.len == text.utf8.count)
        #expect(bytes.string == text)
        #expect(bytes.validatedString == text)
    }

    @Test func emptyBytesAreLibrarysEmptyBytes() {
        let arena = CArena()
        let bytes = arena.bytes("")
        #expect(bytes.len == 0)
        #expect(bytes.bytes == nil)
        #expect(bytes.string == "")
        #expect(bytes.array == [])
        #expect(arena.bytes([UInt8]()).len == 0)
    }

    @Test func cStringIsNULTerminated() {
        let arena = CArena(chunkSize: 64)
        for text in ["", "guest", "密码", String(repeating: "x", count: 100)] {
            let pointer = arena.cString(text)
            #expect(String(cString: pointer) == text)
            #expect(pointer[text.utf8.count] == 0)
        }
    }
}
