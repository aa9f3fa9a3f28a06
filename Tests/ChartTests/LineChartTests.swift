import Foundation
import Testing

@testable import FlintCharts

#if canImport(FoundationXML)
import FoundationXML
#endif

/// The SVG line charts: well-formed XML, every point where its value says, round ticks, escaped text.
@Suite struct LineChartTests {
    /// Elements and their attributes, in document order, parsed by Foundation's XML parser.
    final class Elements: NSObject, XMLParserDelegate {
        var found: [(name: String, attributes: [String: String])] = []
        var texts: [String] = []
        private var text = ""
        func parser(
            _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String]
        ) {
            found.append((name, attributes))
            text = ""
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == "text" { texts.append(text) }
        }
    }

    static func parse(_ svg: String) throws -> Elements {
        let parser = XMLParser(data: Data(svg.utf8))
        let elements = Elements()
        parser.delegate = elements
        #expect(parser.parse(), "well-formed XML: \(parser.parserError.map { "\($0)" } ?? "")")
        return elements
    }

    @Test func niceScalesHaveRoundTicks() {
        #expect(NiceScale(low: 0, high: 93).ticks == [0, 20, 40, 60, 80, 100])
        #expect(NiceScale(low: 0, high: 0.0037).step == 0.001)
        #expect(NiceScale(low: 0, high: 0).high == 1, "an empty range still has a height")
        let tight = NiceScale(low: 128, high: 3008, tight: true)
        #expect(tight.low == 128 && tight.high == 3008 && tight.ticks == [500, 1000, 1500, 2000, 2500, 3000])
    }

    @Test func pointsLandWhereTheirValuesSay() throws {
        var chart = LineChart(title: "Cost & latency <tune>", xLabel: "memory (MB)", leftLabel: "ms", rightLabel: "$")
        chart.series = [
            .init(name: "p50", points: [(128, 100), (512, 25), (1769, 10)]),
            .init(name: "cost", points: [(128, 0.3), (512, 0.25), (1769, 0.35)], axis: .right, dashed: true),
        ]
        chart.xTicks = [(128, "128"), (512, "512"), (1769, "1769")]
        chart.evenlySpacedX = true
        chart.markers = [.init(x: 512, label: "balanced")]
        let elements = try Self.parse(chart.svg())
        let lines = elements.found.filter { $0.name == "polyline" }
        #expect(lines.count == 2)
        let first = try #require(lines.first?.attributes["points"]).split(separator: " ").map {
            $0.split(separator: ",").map { Double($0)! }
        }
        #expect(first.count == 3)
        // Evenly spaced categories: equal x steps; y falls as the values fall, and 0 is at the bottom of the plot.
        #expect(abs((first[1][0] - first[0][0]) - (first[2][0] - first[1][0])) < 0.2)
        #expect(first[0][1] < first[1][1] && first[1][1] < first[2][1])
        #expect(lines[1].attributes["stroke-dasharray"] != nil)
        #expect(elements.texts.contains("Cost & latency <tune>"), "the title is escaped, and reads back as given")
        #expect(elements.texts.contains("balanced") && elements.texts.contains("1769"))
        #expect(elements.texts.contains("cost (right axis)"))
        #expect(elements.found.filter { $0.name == "circle" }.count == 6)
        #expect(chart.html().hasPrefix("<!DOCTYPE html>") && chart.html().contains("<svg"))
    }

    @Test func valuesAreWrittenWithoutFoundation() {
        #expect(SVGWriter.fixed(3.14159, digits: 2) == "3.14" && SVGWriter.fixed(-0.04, digits: 1) == "0.0")
        #expect(SVGWriter.fixed(-2.5, digits: 1) == "-2.5" && SVGWriter.fixed(7, digits: 0) == "7")
        #expect(LineChart.format(0.25) == "0.25" && LineChart.format(1500) == "1500")
    }
}

extension LineChartTests {
    @Test func longSubtitlesWrapAtSpaces() throws {
        #expect(LineChart.wrap("one two three four", columns: 9) == ["one two", "three", "four"])
        var chart = LineChart(title: "t", xLabel: "x", leftLabel: "y")
        chart.subtitle = String(repeating: "word ", count: 60)
        chart.series = [.init(name: "s", points: [(0, 1), (1, 2)])]
        let texts = try Self.parse(chart.svg()).texts.filter { $0.hasPrefix("word") }
        #expect(texts.count >= 2 && texts.allSatisfy { $0.count <= 120 })
    }
}

extension LineChartTests {
    @Test func aLongLegendWrapsInsideTheChart() throws {
        var chart = LineChart(title: "t", xLabel: "x", leftLabel: "y", rightLabel: "ms")
        chart.series = (0..<8).map {
            .init(name: "a series named \($0)", points: [(0, 1), (1, 2)], axis: $0 < 6 ? .left : .right)
        }
        let svg = chart.svg()
        let elements = try Self.parse(svg)
        let legend = elements.found.filter { $0.name == "text" }.compactMap { $0.attributes["x"].flatMap(Double.init) }
        #expect(legend.allSatisfy { $0 < chart.width }, "every legend entry starts inside the chart")
        let rows = Set(
            zip(elements.found.filter { $0.name == "text" }, elements.texts).filter { $0.1.hasPrefix("a series") }
                .compactMap { $0.0.attributes["y"] })
        #expect(rows.count >= 2, "the legend wraps into rows")
    }
}
