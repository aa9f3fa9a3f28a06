import FlintJSON
import FlintModel

/// One text's classification as classify answers it and `flint classify` prints it: `"label"` (the best) and
/// `"scores": [{"label", "score"}]`, best first, the head's outputs through a score function.
public enum ClassifierScores {
    /// Appends `"label":…,"scores":[…]` (no braces) for `outputs` through `function`, keeping the best `top` scores.
    public static func write(
        _ outputs: [Float], function: ModelTask.ScoreFunction, labels: [String], top: Int, into out: inout [UInt8]
    ) {
        let scores = function(outputs)
        let order = scores.indices.sorted { scores[$0] > scores[$1] }.prefix(max(top, 1))
        out.append(contentsOf: #""label":"#.utf8)
        JSONText.appendString(labels[order.first!], to: &out)
        out.append(contentsOf: #","scores":["#.utf8)
        for (rank, label) in order.enumerated() {
            if rank > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"label":"#.utf8)
            JSONText.appendString(labels[label], to: &out)
            out.append(contentsOf: #","score":"#.utf8)
            JSONText.appendFloat(scores[label], to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
    }
}
