import Foundation

/// A one-line progress bar on standard error, drawn only when standard error is a terminal
/// (so logs and pipes stay clean): `[#########...........]  45%  writing blocks 2/5`.
/// Redrawn only when the shown percentage or the stage changes.
struct ProgressBar {
    private let enabled: Bool
    private let width = 30
    private var total: Int64 = 1
    private var done: Int64 = 0
    private var stage = ""
    private var shownPercent = -1
    private var shownStage = ""

    init(enabled: Bool = isatty(STDERR_FILENO) == 1) {
        self.enabled = enabled
    }

    /// Starts a job of `total` units (e.g. bytes to read over all passes).
    mutating func start(total: Int64) {
        self.total = max(1, total)
        done = 0
    }

    /// Sets the label after the bar.
    mutating func setStage(_ stage: String) {
        self.stage = stage
        draw()
    }

    /// Records `units` more done.
    mutating func advance(by units: Int64) {
        done = min(total, done + units)
        draw()
    }

    /// Draws 100% and moves to the next line.
    mutating func finish() {
        done = total
        draw()
        if enabled { write("\n") }
    }

    /// Clears the line (before an error message or a table is printed).
    mutating func clear() {
        guard enabled, shownPercent >= 0 else { return }
        write("\r\u{1B}[2K")
        shownPercent = -1
        shownStage = ""
    }

    private mutating func draw() {
        guard enabled else { return }
        let percent = Int(done * 100 / total)
        guard percent != shownPercent || stage != shownStage else { return }
        shownPercent = percent
        shownStage = stage
        let filled = percent * width / 100
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        write("\r\u{1B}[2K[\(bar)] \(String(repeating: " ", count: percent < 10 ? 2 : percent < 100 ? 1 : 0))\(percent)%  \(stage)")
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
