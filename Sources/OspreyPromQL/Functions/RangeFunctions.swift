import Foundation
import OspreyModel
import OspreyPromQLParser

/// Functions over range vectors (`rate`, `*_over_time`, …): one value per series window.
enum RangeFunctions {
    /// The functions handled here, resolved from their name once per call site.
    enum Kind: String, CaseIterable {
        case rate, increase, delta, irate, idelta, changes, resets, deriv
        case sumOverTime = "sum_over_time", avgOverTime = "avg_over_time", countOverTime = "count_over_time"
        case minOverTime = "min_over_time", maxOverTime = "max_over_time", lastOverTime = "last_over_time"
        case presentOverTime = "present_over_time", stddevOverTime = "stddev_over_time", stdvarOverTime = "stdvar_over_time"
        case firstOverTime = "first_over_time", tsOfFirstOverTime = "ts_of_first_over_time", tsOfLastOverTime = "ts_of_last_over_time"
        case tsOfMinOverTime = "ts_of_min_over_time", tsOfMaxOverTime = "ts_of_max_over_time"
    }

    /// Names handled here.
    static let names = Set(Kind.allCases.map(\.rawValue))

    /// Range functions that keep the metric name.
    static let keepingName: Set<String> = ["last_over_time", "first_over_time"]

    /// The function's value for one series window, nil when it yields no sample.
    /// `rangeStartMs`/`rangeEndMs` are the selector's window (for extrapolation), `rangeMs` its length.
    static func apply<Points: RandomAccessCollection<Sample>>(_ name: String, _ points: Points, rangeStartMs: Int64, rangeEndMs: Int64, rangeMs: Int64) -> Double? {
        guard let kind = Kind(rawValue: name) else { return nil }
        return apply(kind, points, rangeStartMs: rangeStartMs, rangeEndMs: rangeEndMs, rangeMs: rangeMs)
    }

    /// ``apply(_:_:rangeStartMs:rangeEndMs:rangeMs:)`` for a resolved function.
    static func apply<Points: RandomAccessCollection<Sample>>(_ kind: Kind, _ points: Points, rangeStartMs: Int64, rangeEndMs: Int64, rangeMs: Int64) -> Double? {
        guard !points.isEmpty else { return nil }
        switch kind {
        case .rate: return extrapolatedRate(points, rangeStartMs, rangeEndMs, rangeMs, isCounter: true, isRate: true)
        case .increase: return extrapolatedRate(points, rangeStartMs, rangeEndMs, rangeMs, isCounter: true, isRate: false)
        case .delta: return extrapolatedRate(points, rangeStartMs, rangeEndMs, rangeMs, isCounter: false, isRate: false)
        case .irate: return instantValue(points, isRate: true)
        case .idelta: return instantValue(points, isRate: false)
        case .changes: return Double(zip(points, points.dropFirst()).filter { !sameValue($0.value, $1.value) }.count)
        case .resets: return Double(zip(points, points.dropFirst()).filter { $1.value < $0.value }.count)
        case .deriv: return points.count < 2 ? nil : linearRegression(points, interceptTimeMs: points[points.startIndex].timestampMs).slope
        case .sumOverTime: return kahanSum(points.lazy.map(\.value))
        case .avgOverTime: return mean(points.lazy.map(\.value))
        case .countOverTime: return Double(points.count)
        case .minOverTime: return points.reduce(Double.nan) { $0.isNaN || $1.value < $0 ? $1.value : $0 }
        case .maxOverTime: return points.reduce(Double.nan) { $0.isNaN || $1.value > $0 ? $1.value : $0 }
        case .lastOverTime: return points.last?.value
        case .firstOverTime: return points.first?.value
        case .tsOfFirstOverTime: return points.first.map { Double($0.timestampMs) / 1000 }
        case .tsOfLastOverTime: return points.last.map { Double($0.timestampMs) / 1000 }
        case .tsOfMinOverTime: return timestampOfExtreme(points) { $0 <= $1 }
        case .tsOfMaxOverTime: return timestampOfExtreme(points) { $0 >= $1 }
        case .presentOverTime: return 1
        case .stddevOverTime: return variance(points.lazy.map(\.value)).squareRoot()
        case .stdvarOverTime: return variance(points.lazy.map(\.value))
        }
    }

    /// The timestamp (s) of the last sample that `better` prefers over every earlier choice; a
    /// NaN choice is always replaced (Prometheus' `compareOverTime`).
    private static func timestampOfExtreme<Points: RandomAccessCollection<Sample>>(_ points: Points, _ better: (Double, Double) -> Bool) -> Double {
        var best = points[points.startIndex]
        for point in points where better(point.value, best.value) || best.value.isNaN {
            best = point
        }
        return Double(best.timestampMs) / 1000
    }

    /// Prometheus' `double_exponential_smoothing` (Holt's linear method) over at least two points.
    static func doubleExponentialSmoothing<Points: RandomAccessCollection<Sample>>(_ points: Points, smoothing sf: Double, trend tf: Double) -> Double {
        var s0 = 0.0
        let values = Array(points.map(\.value))
        var s1 = values[0]
        var b = values[1] - values[0]
        for i in 1..<values.count {
            let x = sf * values[i]
            if i > 1 { b = tf * (s1 - s0) + (1 - tf) * b }
            let y = (1 - sf) * (s1 + b)
            (s0, s1) = (s1, x + y)
        }
        return s1
    }

    private static func sameValue(_ a: Double, _ b: Double) -> Bool {
        a == b || (a.isNaN && b.isNaN)
    }

    /// Prometheus' `extrapolatedRate`: the increase over the samples, extrapolated towards the
    /// window's edges (at most half an average sample interval, never below zero for counters).
    private static func extrapolatedRate<Points: RandomAccessCollection<Sample>>(_ points: Points, _ rangeStartMs: Int64, _ rangeEndMs: Int64, _ rangeMs: Int64, isCounter: Bool, isRate: Bool) -> Double? {
        guard points.count >= 2, let first = points.first, let last = points.last else { return nil }
        var result = last.value - first.value
        if isCounter {
            var previous = first.value
            for point in points.dropFirst() {
                if point.value < previous { result += previous }
                previous = point.value
            }
        }
        let geometry = RateGeometry(firstMs: first.timestampMs, lastMs: last.timestampMs, count: points.count, rangeStartMs: rangeStartMs, rangeEndMs: rangeEndMs, rangeSeconds: isRate ? Double(rangeMs) / 1000 : nil)
        return geometry.extrapolate(result, firstValue: first.value, isCounter: isCounter)
    }

    /// The value-independent part of `extrapolatedRate` for a window's first and last sample
    /// times and sample count (≥ 2): the same for every window where those repeat (regular
    /// scrapes at a fixed offset from the steps), so callers sliding windows compute it once.
    struct RateGeometry {
        let sampledInterval: Double
        let durationToStart: Double
        let durationToEnd: Double
        let rangeSeconds: Double?
        /// The extrapolation factor when no counter zero point cuts the start.
        let factor: Double

        @inline(__always)
        init(firstMs: Int64, lastMs: Int64, count: Int, rangeStartMs: Int64, rangeEndMs: Int64, rangeSeconds: Double?) {
            var durationToStart = Double(firstMs - rangeStartMs) / 1000
            var durationToEnd = Double(rangeEndMs - lastMs) / 1000
            let sampledInterval = Double(lastMs - firstMs) / 1000
            let averageInterval = sampledInterval / Double(count - 1)
            let threshold = averageInterval * 1.1
            if durationToStart >= threshold { durationToStart = averageInterval / 2 }
            if durationToEnd >= threshold { durationToEnd = averageInterval / 2 }
            self.sampledInterval = sampledInterval
            self.durationToStart = durationToStart
            self.durationToEnd = durationToEnd
            self.rangeSeconds = rangeSeconds
            factor = Self.factor(sampledInterval, durationToStart, durationToEnd, rangeSeconds)
        }

        @inline(__always)
        private static func factor(_ sampledInterval: Double, _ durationToStart: Double, _ durationToEnd: Double, _ rangeSeconds: Double?) -> Double {
            var factor = (sampledInterval + durationToStart + durationToEnd) / sampledInterval
            if let rangeSeconds { factor /= rangeSeconds }
            return factor
        }

        /// The raw increase `result` extrapolated (never below zero for counters: the start
        /// moves no further back than where the counter would have been zero).
        @inline(__always)
        func extrapolate(_ result: Double, firstValue: Double, isCounter: Bool) -> Double {
            if isCounter && result > 0 && firstValue >= 0 {
                let durationToZero = sampledInterval * (firstValue / result)
                if durationToZero < durationToStart {
                    return result * Self.factor(sampledInterval, durationToZero, durationToEnd, rangeSeconds)
                }
            }
            return result * factor
        }
    }

    /// `irate`/`idelta`: the last two samples.
    private static func instantValue<Points: RandomAccessCollection<Sample>>(_ points: Points, isRate: Bool) -> Double? {
        guard points.count >= 2 else { return nil }
        let last = points[points.index(points.endIndex, offsetBy: -1)]
        let previous = points[points.index(points.endIndex, offsetBy: -2)]
        var result = last.value - previous.value
        if isRate && last.value < previous.value { result = last.value }
        guard isRate else { return result }
        let interval = last.timestampMs - previous.timestampMs
        guard interval != 0 else { return nil }
        return result / (Double(interval) / 1000)
    }

    /// One step of Kahan–Babuška (Neumaier) summation, as Prometheus' `kahanSumInc`.
    static func kahanSumInc(_ increment: Double, _ sum: Double, _ compensation: Double) -> (Double, Double) {
        let t = sum + increment
        var c = compensation
        if t.isInfinite {
            c = 0
        } else if abs(sum) >= abs(increment) {
            c += (sum - t) + increment
        } else {
            c += (increment - t) + sum
        }
        return (t, c)
    }

    /// Compensated sum, as Prometheus' `sum_over_time`.
    static func kahanSum<Values: Sequence<Double>>(_ values: Values) -> Double {
        var sum = 0.0
        var compensation = 0.0
        for value in values { (sum, compensation) = kahanSumInc(value, sum, compensation) }
        return sum.isInfinite ? sum : sum + compensation
    }

    /// Prometheus 3's `avg_over_time`: a compensated sum, switching to an incremental mean if
    /// the sum overflows.
    static func mean<Values: Collection<Double>>(_ values: Values) -> Double {
        var accumulator = GroupAccumulator()
        for value in values { accumulator.add(value, .avg) }
        return accumulator.result(.avg)
    }

    /// Population variance (Welford), as Prometheus' `stdvar`.
    static func variance<Values: Sequence<Double>>(_ values: Values) -> Double {
        var count = 0.0
        var mean = 0.0
        var squares = 0.0
        for value in values {
            count += 1
            let delta = value - mean
            mean += delta / count
            squares += delta * (value - mean)
        }
        return squares / count
    }

    /// Least-squares slope and intercept at `interceptTimeMs`, as Prometheus' `linearRegression`.
    static func linearRegression<Points: RandomAccessCollection<Sample>>(_ points: Points, interceptTimeMs: Int64) -> (slope: Double, intercept: Double) {
        var n = 0.0, sumX = 0.0, sumY = 0.0, sumXY = 0.0, sumX2 = 0.0
        var constY = true
        let firstY = points[points.startIndex].value
        for point in points {
            if point.value != firstY { constY = false }
            let x = Double(point.timestampMs - interceptTimeMs) / 1000
            n += 1
            sumY += point.value
            sumX += x
            sumXY += x * point.value
            sumX2 += x * x
        }
        if constY { return (0, firstY) }
        let covXY = sumXY - sumX * sumY / n
        let varX = sumX2 - sumX * sumX / n
        let slope = covXY / varX
        return (slope, sumY / n - slope * sumX / n)
    }
}
