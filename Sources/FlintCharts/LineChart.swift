/// A line chart drawn as SVG: series of points over one x axis, each against the left or the right y axis, with
/// ticks at round values, gridlines, a legend, labels, and optional vertical markers. What `flint tune` and
/// `flint bench --profile` draw; no browser, library or network needed to make one.
///
/// It draws what it is given: it does not smooth, sample or sort points (a series is drawn in the order given).
///
/// ```swift
/// var chart = LineChart(title: "Latency", xLabel: "memory (MB)", leftLabel: "ms")
/// chart.series.append(.init(name: "p50", points: [(128, 40), (1769, 4)]))
/// let svg = chart.svg()
/// ```
public struct LineChart: Sendable {
    /// Which y axis a series is measured against.
    public enum Axis: Sendable { case left, right }

    /// One line.
    public struct Series: Sendable {
        /// Its name in the legend.
        public var name: String
        /// Its points, drawn in this order.
        public var points: [(x: Double, y: Double)]
        /// CSS colour.
        public var color: String
        /// The axis its values are read on.
        public var axis: Axis
        /// Dashed rather than solid.
        public var dashed: Bool
        /// Whether each point gets a dot.
        public var markers: Bool

        /// A series; colours cycle through a palette readable on white when none is given.
        public init(
            name: String, points: [(x: Double, y: Double)], color: String? = nil, axis: Axis = .left,
            dashed: Bool = false, markers: Bool = true
        ) {
            self.name = name
            self.points = points
            self.color = color ?? ""
            self.axis = axis
            self.dashed = dashed
            self.markers = markers
        }
    }

    /// A labelled vertical line at an x value (a recommendation, a phase of a load profile).
    public struct Marker: Sendable {
        /// Where.
        public var x: Double
        /// Its label, written beside the line.
        public var label: String
        /// CSS colour.
        public var color: String

        /// A marker.
        public init(x: Double, label: String, color: String = "#555") {
            self.x = x
            self.label = label
            self.color = color
        }
    }

    /// Above the plot.
    public var title: String
    /// Under the x axis.
    public var xLabel: String
    /// Beside the left axis.
    public var leftLabel: String
    /// Beside the right axis (drawn only when a series uses it).
    public var rightLabel: String
    /// The lines.
    public var series: [Series] = []
    /// Vertical markers.
    public var markers: [Marker] = []
    /// Tick labels for chosen x values instead of round numbers (categorical axes such as memory sizes); the x
    /// values are still placed by value unless ``evenlySpacedX``.
    public var xTicks: [(x: Double, label: String)]? = nil
    /// Place the `xTicks` values at equal distances (their order), as Power Tuning draws memory sizes.
    public var evenlySpacedX = false
    /// A line under the title, smaller.
    public var subtitle: String? = nil
    /// Pixels.
    public var width = 860.0
    /// Pixels.
    public var height = 480.0

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf", "#7f7f7f"]

    /// A chart with no series yet.
    public init(title: String, xLabel: String, leftLabel: String, rightLabel: String = "") {
        self.title = title
        self.xLabel = xLabel
        self.leftLabel = leftLabel
        self.rightLabel = rightLabel
    }

    /// The chart as a standalone SVG document.
    public func svg() -> String {
        let left = 78.0, right = series.contains { $0.axis == .right } ? 78.0 : 24.0
        // The subtitle wraps at spaces to the chart's width (about 7.2 px a character at 13 px).
        let subtitleLines = subtitle.map { Self.wrap($0, columns: Int((width - left - 24) / 7.2)) } ?? []
        // Legend entries flow into rows across the plot's width (about 6.6 px a character at 12 px).
        let plotWidth = width - left - right
        var legend: [(x: Double, row: Int)] = []
        var legendX = left, legendRow = 0
        for line in series {
            let itemWidth = 40 + Double(legendLabel(line).count) * 6.6
            if legendX > left && legendX + itemWidth > left + plotWidth {
                legendRow += 1
                legendX = left
            }
            legend.append((legendX, legendRow))
            legendX += itemWidth
        }
        let top = 78.0 + 18 * Double(subtitleLines.count) + 20 * Double(legendRow), bottom = 62.0
        let plotHeight = height - top - bottom
        let points = series.flatMap(\.points)
        let xValues = (xTicks?.map(\.x) ?? []) + points.map(\.x) + markers.map(\.x)
        let xScale = NiceScale(low: xValues.min() ?? 0, high: xValues.max() ?? 1, tight: true)
        let leftScale = NiceScale(
            low: 0, high: series.filter { $0.axis == .left }.flatMap(\.points).map(\.y).max() ?? 1)
        let rightScale = NiceScale(
            low: 0, high: series.filter { $0.axis == .right }.flatMap(\.points).map(\.y).max() ?? 1)
        let categories = evenlySpacedX ? (xTicks ?? []).map(\.x) : []
        func px(_ x: Double) -> Double {
            if !categories.isEmpty {
                if let index = categories.firstIndex(of: x) {
                    return left + plotWidth * (Double(index) + 0.5) / Double(categories.count)
                }
            }
            return left + plotWidth * (x - xScale.low) / max(xScale.high - xScale.low, 1e-12)
        }
        func py(_ y: Double, _ axis: Axis) -> Double {
            let scale = axis == .left ? leftScale : rightScale
            return top + plotHeight * (1 - (y - scale.low) / max(scale.high - scale.low, 1e-12))
        }

        var out = SVGWriter(width: width, height: height)
        out.rect(x: 0, y: 0, width: width, height: height, fill: "#ffffff")
        out.text(title, x: left, y: 30, size: 18, weight: "bold")
        for (index, line) in subtitleLines.enumerated() {
            out.text(line, x: left, y: 52 + 17 * Double(index), size: 13, color: "#555")
        }
        // Gridlines and the left axis's ticks.
        for tick in leftScale.ticks {
            let y = py(tick, .left)
            out.line(x1: left, y1: y, x2: left + plotWidth, y2: y, color: "#e3e3e3")
            out.text(Self.format(tick), x: left - 8, y: y + 4, size: 12, anchor: "end")
        }
        if series.contains(where: { $0.axis == .right }) {
            for tick in rightScale.ticks {
                out.text(Self.format(tick), x: left + plotWidth + 8, y: py(tick, .right) + 4, size: 12)
            }
            out.text(
                rightLabel, x: width - 16, y: top + plotHeight / 2, size: 13, anchor: "middle", rotate: 90)
        }
        let xTickList = xTicks ?? xScale.ticks.map { ($0, Self.format($0)) }
        for (x, label) in xTickList {
            let position = px(x)
            out.line(x1: position, y1: top + plotHeight, x2: position, y2: top + plotHeight + 5, color: "#333")
            out.text(label, x: position, y: top + plotHeight + 20, size: 12, anchor: "middle")
        }
        out.line(x1: left, y1: top + plotHeight, x2: left + plotWidth, y2: top + plotHeight, color: "#333")
        out.line(x1: left, y1: top, x2: left, y2: top + plotHeight, color: "#333")
        out.text(xLabel, x: left + plotWidth / 2, y: height - 16, size: 13, anchor: "middle")
        out.text(leftLabel, x: 18, y: top + plotHeight / 2, size: 13, anchor: "middle", rotate: -90)
        for marker in markers {
            let x = px(marker.x)
            out.line(x1: x, y1: top, x2: x, y2: top + plotHeight, color: marker.color, dashed: true)
            // A label near the right edge goes on the line's left, clear of the right axis.
            let leftOfLine = x + 8 + Double(marker.label.count) * 6.2 > left + plotWidth
            out.text(
                marker.label, x: leftOfLine ? x - 4 : x + 4, y: top + 12, size: 11,
                anchor: leftOfLine ? "end" : "start",
                color: marker.color)
        }
        // The lines, then the legend above the plot.
        for (index, line) in series.enumerated() {
            let color = line.color.isEmpty ? Self.palette[index % Self.palette.count] : line.color
            let coordinates = line.points.map { (px($0.x), py($0.y, line.axis)) }
            out.polyline(coordinates, color: color, dashed: line.dashed)
            if line.markers { for (x, y) in coordinates { out.circle(x: x, y: y, radius: 3.5, fill: color) } }
            let (itemX, row) = legend[index]
            let legendY = top - 14 - 20 * Double(legendRow - row)
            out.line(x1: itemX, y1: legendY, x2: itemX + 22, y2: legendY, color: color, width: 3, dashed: line.dashed)
            out.text(legendLabel(line), x: itemX + 28, y: legendY + 4, size: 12)
        }
        return out.document()
    }

    private func legendLabel(_ line: Series) -> String {
        line.name + (line.axis == .right && !rightLabel.isEmpty ? " (right axis)" : "")
    }

    /// The SVG inside a minimal HTML page (for `--chart x.html`).
    public func html() -> String {
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>\(SVGWriter.escape(title))</title></head>"
            + "<body style=\"margin:24px;font-family:sans-serif\">\n\(svg())</body></html>\n"
    }

    /// `text` cut at spaces into lines of at most `columns` characters (a longer word keeps a line of its own).
    static func wrap(_ text: String, columns: Int) -> [String] {
        var lines: [String] = [], current = ""
        for word in text.split(separator: " ") {
            if !current.isEmpty && current.count + 1 + word.count > columns {
                lines.append(current)
                current = ""
            }
            current += (current.isEmpty ? "" : " ") + word
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    /// A tick value with as many decimals as it needs (at most 4), and no trailing zeros.
    static func format(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e15 { return String(Int(value)) }
        var text = SVGWriter.fixed(value, digits: 4)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
