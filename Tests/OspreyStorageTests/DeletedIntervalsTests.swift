import OspreyModel
import OspreyStorage
import Testing

struct DeletedIntervalsTests {
    @Test func rangesMergeWhenTheyOverlapOrTouch() {
        var deleted = DeletedIntervals()
        deleted.add(10...20)
        deleted.add(30...40)
        #expect(deleted.ranges == [10...20, 30...40])
        deleted.add(21...25)
        #expect(deleted.ranges == [10...25, 30...40])
        deleted.add(0...5)
        deleted.add(100...100)
        #expect(deleted.ranges == [0...5, 10...25, 30...40, 100...100])
        deleted.add(4...35)
        #expect(deleted.ranges == [0...40, 100...100])
        deleted.add(Int64.min...(-1))
        #expect(deleted.ranges == [Int64.min...40, 100...100])
    }

    @Test func containmentCoverageAndRemoval() {
        var deleted = DeletedIntervals([5...9, 20...29])
        #expect(!deleted.contains(4) && deleted.contains(5) && deleted.contains(9) && !deleted.contains(10) && deleted.contains(25) && !deleted.contains(30))
        #expect(deleted.covers(21, 29) && !deleted.covers(8, 21))
        #expect(deleted.overlaps(0, 5) && !deleted.overlaps(10, 19))
        var samples = (0..<35).map { Sample(timestampMs: Int64($0), value: Double($0)) }
        deleted.remove(from: &samples, startingAt: 3)
        #expect(samples.map(\.timestampMs) == [0, 1, 2, 3, 4] + Array(10...19) + Array(30...34))
        deleted.removeAll(before: 22)
        #expect(deleted.ranges == [22...29])
    }

    @Test func iteratorsSkipDeletedSamples() {
        let samples = (0..<100).map { Sample(timestampMs: Int64($0) * 10, value: Double($0)) }
        let deleted = DeletedIntervals([0...15, 200...495, 980...990])
        let iterator = DeletionSkippingIterator(ArraySampleIterator(samples), deleted: deleted)
        var seen: [Int64] = []
        while iterator.next() == .float { seen.append(iterator.timestampMs) }
        let expected = samples.map(\.timestampMs).filter { !deleted.contains($0) }
        #expect(seen == expected)
        let seeking = DeletionSkippingIterator(ArraySampleIterator(samples), deleted: deleted)
        #expect(seeking.seek(to: 250) == .float && seeking.timestampMs == 500)
        var bulk: [Sample] = []
        #expect(DeletionSkippingIterator(ArraySampleIterator(samples), deleted: deleted).appendFloats(to: &bulk) == .none)
        #expect(bulk.map(\.timestampMs) == expected)
    }
}
