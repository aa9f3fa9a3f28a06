import Foundation

/// A command run to completion the way a user runs it: arguments, text on its standard input, and what it printed.
public enum CommandRun {
    /// Runs `executable` with `arguments`, writes `input` to its standard input and closes it, and returns its exit
    /// status, standard output and standard error.
    public static func run(
        _ executable: String, _ arguments: [String], input: String = ""
    ) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }
}
