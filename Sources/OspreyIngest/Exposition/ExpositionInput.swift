#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The unconsumed bytes of a streamed exposition, handed out line by line.
///
/// Consumed bytes are dropped when the next chunk arrives, so memory stays at about one chunk
/// plus the line that straddles two chunks.
struct ExpositionInput {
    /// Buffered input; `bytes[position...]` is not consumed yet.
    private(set) var bytes: [UInt8]
    /// Start of the unconsumed bytes.
    private(set) var position = 0
    /// Bytes before this offset are known to hold no line feed (saves rescanning a long
    /// partial line on every small chunk).
    private var scannedUpTo = 0
    /// Whether the caller said no more input follows.
    private(set) var isComplete: Bool
    /// Number of lines handed out so far (the 1-based number of the last line).
    private(set) var lineCount = 0

    init(_ bytes: [UInt8], isComplete: Bool) {
        self.bytes = bytes
        self.isComplete = isComplete
    }

    /// Whether every byte was consumed.
    var isExhausted: Bool { position >= bytes.count }

    mutating func append(_ chunk: [UInt8], isComplete: Bool) {
        if position > 0 {
            if position >= bytes.count {
                bytes.removeAll(keepingCapacity: true)
            } else {
                bytes.removeSubrange(0..<position)
            }
            scannedUpTo -= Swift.min(scannedUpTo, position)
            position = 0
        }
        bytes.append(contentsOf: chunk)
        self.isComplete = isComplete
    }

    /// The next line as a byte range without its line feed, and whether a line feed ended it.
    /// Returns nil when no whole line is buffered yet (or, once complete, when nothing is
    /// left). A last line without a line feed is returned only once the input is complete.
    mutating func nextLine() -> (range: Range<Int>, hasLineFeed: Bool)? {
        let count = bytes.count
        guard position < count else { return nil }
        let searchFrom = Swift.max(position, scannedUpTo)
        let newline: Int? = bytes.withUnsafeBufferPointer { buffer -> Int? in
            guard let base = buffer.baseAddress, searchFrom < count else { return nil }
            guard let found = memchr(base + searchFrom, 0x0A, count - searchFrom) else { return nil }
            return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
        }
        if let newline {
            let range = position..<newline
            position = newline + 1
            scannedUpTo = position
            lineCount += 1
            return (range, true)
        }
        scannedUpTo = count
        guard isComplete else { return nil }
        let range = position..<count
        position = count
        lineCount += 1
        return (range, false)
    }
}
