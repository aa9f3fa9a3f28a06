#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The few SVG elements the charts use, written as text with every attribute value and text escaped.
struct SVGWriter {
    private var body = ""
    let width: Double
    let height: Double

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    /// `&`, `<`, `>` and quotes as entities: text and attribute values may come from user input (function names).
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    static func number(_ value: Double) -> String { fixed(value, digits: 1) }

    /// `value` with exactly `digits` decimals (no Foundation here: this module depends on nothing).
    static func fixed(_ value: Double, digits: Int) -> String {
        guard value.isFinite else { return "0" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int64((abs(value) * scale).rounded())
        let whole = scaled / Int64(scale), fraction = scaled % Int64(scale)
        var text = (value < 0 && scaled != 0 ? "-" : "") + String(whole)
        if digits > 0 {
            let digitsText = String(fraction)
            text += "." + String(repeating: "0", count: digits - digitsText.count) + digitsText
        }
        return text
    }

    mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String) {
        body +=
            "<rect x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" width=\"\(Self.number(width))\" height=\"\(Self.number(height))\" fill=\"\(Self.escape(fill))\"/>\n"
    }

    mutating func line(
        x1: Double, y1: Double, x2: Double, y2: Double, color: String, width: Double = 1, dashed: Bool = false
    ) {
        body +=
            "<line x1=\"\(Self.number(x1))\" y1=\"\(Self.number(y1))\" x2=\"\(Self.number(x2))\" y2=\"\(Self.number(y2))\" stroke=\"\(Self.escape(color))\" stroke-width=\"\(Self.number(width))\"\(dashed ? " stroke-dasharray=\"6 4\"" : "")/>\n"
    }

    mutating func polyline(_ points: [(Double, Double)], color: String, dashed: Bool) {
        guard !points.isEmpty else { return }
        let coordinates = points.map { "\(Self.number($0.0)),\(Self.number($0.1))" }.joined(separator: " ")
        body +=
            "<polyline points=\"\(coordinates)\" fill=\"none\" stroke=\"\(Self.escape(color))\" stroke-width=\"2.5\" stroke-linejoin=\"round\"\(dashed ? " stroke-dasharray=\"7 5\"" : "")/>\n"
    }

    mutating func circle(x: Double, y: Double, radius: Double, fill: String) {
        body +=
            "<circle cx=\"\(Self.number(x))\" cy=\"\(Self.number(y))\" r=\"\(Self.number(radius))\" fill=\"\(Self.escape(fill))\"/>\n"
    }

    mutating func text(
        _ text: String, x: Double, y: Double, size: Double, anchor: String = "start", color: String = "#222",
        weight: String = "normal", rotate: Double = 0
    ) {
        let transform =
            rotate == 0 ? "" : " transform=\"rotate(\(Self.number(rotate)) \(Self.number(x)) \(Self.number(y)))\""
        body +=
            "<text x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" font-size=\"\(Self.number(size))\" text-anchor=\"\(anchor)\" fill=\"\(Self.escape(color))\" font-weight=\"\(weight)\"\(transform)>\(Self.escape(text))</text>\n"
    }

    /// The whole document.
    func document() -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Self.number(width))\" height=\"\(Self.number(height))\" viewBox=\"0 0 \(Self.number(width)) \(Self.number(height))\" font-family=\"Helvetica, Arial, sans-serif\">\n"
            + body + "</svg>\n"
    }
}
