import LambdaRuntime

/// Every function this bootstrap can serve, by the `_HANDLER` name it is deployed under.
///
/// Adding a function means a folder under `functions/` with a ``FunctionBody`` (the model work; the pipeline,
/// ``FunctionHandler``, does the rest) and one line here.
public enum FunctionRegistry {
    /// The registry the `bootstrap` executable uses.
    public static let all = HandlerRegistry([
        "echo": { _ in EchoHandler() },
        "probe": ProbeHandler.make,
        "embed": EmbedFunction.make,
        "search": SearchFunction.make,
        "classify": ClassifyFunction.make,
        "rerank": RerankFunction.make,
    ])
}
