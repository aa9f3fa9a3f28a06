import LambdaRuntime

/// Returns its event unchanged, byte for byte. The baseline for runtime and emulator benchmarks.
public struct EchoHandler: LambdaHandler {
    /// Creates the handler; it has no state.
    public init() {}

    public func handle(_ event: [UInt8], context: LambdaContext, response: inout [UInt8]) throws {
        response.append(contentsOf: event)
    }
}
