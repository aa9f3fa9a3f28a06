import Foundation

/// The task-head fixtures (`Tests/TaskFixtures`, made by its `generate_task_fixtures.py`): small random-weight
/// checkpoints saved by `transformers` / sentence-transformers, and what those libraries compute on them.
public enum TaskFixtures {
    /// The folder holding the checkpoints and `references.json`.
    public static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("TaskFixtures")

    /// The checkpoint folder `name` (`rerank-bert`, `classify-distilbert`, ...).
    public static func checkpoint(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// `references.json`'s bytes.
    public static func referenceBytes() throws -> [UInt8] {
        Array(try Data(contentsOf: folder.appendingPathComponent("references.json")))
    }

    /// A copy of checkpoint `name` in a new temporary folder, for tests that alter a file; removed by the caller.
    public static func copy(_ name: String) throws -> String {
        let target = FileManager.default.temporaryDirectory.appendingPathComponent("flint-\(name)-\(UUID().uuidString)")
        try FileManager.default.copyItem(atPath: checkpoint(name), toPath: target.path)
        return target.path
    }
}
