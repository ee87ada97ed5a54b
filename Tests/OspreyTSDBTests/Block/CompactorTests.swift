@testable import OspreyTSDB
import OspreyEncoding
import Testing

struct CompactorTests {
    static func meta(_ name: String, _ minHours: Double, _ maxHours: Double) -> BlockMeta {
        var meta = BlockMeta(ulid: ULID(timestampMs: 0), minTime: Int64(minHours * 3_600_000), maxTime: Int64(maxHours * 3_600_000),
                             stats: BlockMeta.Stats(), compaction: BlockMeta.Compaction(level: 1))
        meta.ulid = name
        return meta
    }

    @Test func rangesGrowByThreesUpToATenthOfTheRetention() {
        #expect(Compactor.ranges(blockRangeMs: 7_200_000, retentionMs: 15 * 24 * 3_600_000) == [7_200_000, 21_600_000, 64_800_000])
        #expect(Compactor.ranges(blockRangeMs: 7_200_000, retentionMs: 3_600_000) == [7_200_000])
    }

    @Test func overlappingBlocksComeFirstThenAdjacentOnes() {
        let ranges = Compactor.ranges(blockRangeMs: 7_200_000, retentionMs: 15 * 24 * 3_600_000)
        let blocks = [
            Self.meta("A", 0, 2), Self.meta("F", 0.5, 1.5), Self.meta("B", 2, 4), Self.meta("C", 4, 6), Self.meta("D", 6, 8), Self.meta("E", 8, 10),
        ]
        #expect(Compactor.plan(blocks, ranges: ranges)?.map(\.ulid) == ["A", "F"])
        #expect(Compactor.plan([Self.meta("A", 0, 2), Self.meta("B", 2, 4), Self.meta("X", 3, 5), Self.meta("Y", 4.5, 7)], ranges: ranges)?.map(\.ulid) == ["B", "X", "Y"])
        #expect(Compactor.plan(Array(blocks.dropFirst(2)), ranges: ranges)?.map(\.ulid) == ["B", "C"])
        // A full aligned range is compacted; the newest block never right away.
        #expect(Compactor.plan([Self.meta("A", 0, 2), Self.meta("B", 2, 4), Self.meta("C", 4, 6)], ranges: ranges) == nil)
        #expect(Compactor.plan([Self.meta("A", 0, 2), Self.meta("B", 2, 4), Self.meta("C", 4, 6), Self.meta("D", 6, 8)], ranges: ranges)?.map(\.ulid) == ["A", "B", "C"])
    }
}
