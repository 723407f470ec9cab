/// Go's text/tabwriter (with kubectl's RememberWidths extension), which lays out everything
/// kubectl prints: `get` tables and `describe` pages.
///
/// Text is tab-separated cells in newline-terminated lines. A cell ended by a tab belongs to
/// a column; the last cell of a line does not and is printed as is. A column block is a run
/// of consecutive lines that all have a cell in that column; within a block the column is as
/// wide as its widest cell plus `padding`, and at least `minWidth`. With `rememberWidths`,
/// a column never shrinks between flushes, so `get -w` rows stay under their header.
public struct TabWriter {
    public var minWidth: Int
    public var padding: Int
    public var rememberWidths: Bool
    private var text = ""
    private var rememberedWidths: [Int] = []

    public init(minWidth: Int, padding: Int, rememberWidths: Bool = false) {
        self.minWidth = minWidth
        self.padding = padding
        self.rememberWidths = rememberWidths
    }

    /// kubectl's table writer (`printers.GetNewTabWriter`: minwidth 6, padding 3).
    public static func table() -> TabWriter { TabWriter(minWidth: 6, padding: 3, rememberWidths: true) }

    /// kubectl describe's writer (minwidth 0, padding 2).
    public static func describe() -> TabWriter { TabWriter(minWidth: 0, padding: 2) }

    public mutating func write(_ text: String) { self.text += text }

    /// Writes one line of cells.
    public mutating func row(_ cells: [String]) { text += cells.joined(separator: "\t") + "\n" }

    /// Lays out everything written since the last flush and returns it. Each cell is
    /// printed with `escapingTerminalControls`: what a pod or its events carry cannot drive
    /// the reader's terminal.
    public mutating func flush() -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.split(separator: "\t", omittingEmptySubsequences: false).map { Self.escapingTerminalControls(String($0)) }
        }
        // A trailing newline leaves an empty last line that is not part of the text.
        let endsWithNewline = text.hasSuffix("\n")
        if endsWithNewline || text.isEmpty { lines.removeLast() }
        text = ""
        var output = ""
        var widths: [Int] = []
        format(lines, from: 0, to: lines.count, widths: &widths, output: &output)
        if !endsWithNewline, !output.isEmpty, output.hasSuffix("\n") { output.removeLast() }
        return output
    }

    private static func width(_ cell: String) -> Int { cell.unicodeScalars.count }

    /// `text` with the characters that move a terminal's cursor or start an escape sequence
    /// written visibly, as kubectl escapes them (`printers.EscapeTerminal`, CVE-2021-25743):
    /// ESC as `^[`, CR as `\r`; and the other C0 controls, DEL and the C1 controls (0x9b
    /// starts a sequence too) in caret or `\u{..}` notation. Text without them is returned
    /// as it is, without a copy.
    public static func escapingTerminalControls(_ text: String) -> String {
        func isControl(_ v: UInt32) -> Bool { v < 0x20 || (v >= 0x7f && v <= 0x9f) }
        guard text.unicodeScalars.contains(where: { isControl($0.value) }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let v = scalar.value
            switch v {
            case 0x1b: out.append(contentsOf: "^[".unicodeScalars)
            case 0x0d: out.append(contentsOf: "\\r".unicodeScalars)
            case 0x7f: out.append(contentsOf: "^?".unicodeScalars)
            case 0..<0x20: out.append(contentsOf: ("^" + String(UnicodeScalar(UInt8(v + 0x40)))).unicodeScalars)
            case 0x80...0x9f: out.append(contentsOf: "\\u{\(String(v, radix: 16))}".unicodeScalars)
            default: out.append(scalar)
            }
        }
        return String(out)
    }

    private mutating func format(_ lines: [[String]], from start: Int, to end: Int, widths: inout [Int], output: inout String) {
        let column = widths.count
        var line0 = start
        var this = start
        while this < end {
            // Lines whose last cell is at or before this column do not take part in it.
            if column >= lines[this].count - 1 {
                this += 1
                continue
            }
            writeLines(lines, from: line0, to: this, widths: widths, output: &output)
            line0 = this
            var width = minWidth
            while this < end, column < lines[this].count - 1 {
                width = max(width, Self.width(lines[this][column]) + padding)
                this += 1
            }
            if rememberWidths {
                if column < rememberedWidths.count {
                    width = max(width, rememberedWidths[column])
                    rememberedWidths[column] = width
                } else {
                    while rememberedWidths.count < column { rememberedWidths.append(0) }
                    rememberedWidths.append(width)
                }
            }
            widths.append(width)
            format(lines, from: line0, to: this, widths: &widths, output: &output)
            widths.removeLast()
            line0 = this
        }
        writeLines(lines, from: line0, to: end, widths: widths, output: &output)
    }

    private func writeLines(_ lines: [[String]], from start: Int, to end: Int, widths: [Int], output: inout String) {
        guard start < end else { return }
        for index in start..<end {
            let cells = lines[index]
            for (position, cell) in cells.enumerated() {
                output += cell
                if position < widths.count, position < cells.count - 1 {
                    output += String(repeating: " ", count: max(0, widths[position] - Self.width(cell)))
                }
            }
            output += "\n"
        }
    }
}
