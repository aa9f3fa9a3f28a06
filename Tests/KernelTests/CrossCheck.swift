import Foundation

/// What the cross checks (NEON under qemu-user, AVX-512 VNNI on SIMDe) share: where the sources are, and running a
/// compiler or a built check.
enum CrossCheck {
    /// The package root.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    /// Sources/CKernels.
    static let kernels = root.appendingPathComponent("Sources/CKernels").path
    /// A checker's source under Tests/KernelTests/CrossChecks.
    static func checker(_ name: String) -> String {
        root.appendingPathComponent("Tests/KernelTests/CrossChecks/\(name)").path
    }

    /// Runs `arguments[0]` with the rest; returns its exit status and its output (stdout and stderr together).
    static func run(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}
