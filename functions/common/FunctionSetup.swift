import Embedder
import FlintJSON
import LambdaRuntime

/// What a model function reads at init, all of it checked there: its function.json, the `FLINT_*` variables
/// (through the init context, never `getenv`), and where its files are. A bad value fails init with
/// `Runtime.ConfigInvalid` naming the setting.
///
/// Variables: `FLINT_MODEL` (the model file, over function.json's `model`), `FLINT_INDEX` (search's index, over
/// `index`), and the encoder's `FLINT_KERNEL`, `FLINT_THREADS`, `FLINT_SPIN_US`, `FLINT_ACTIVATION_GROUP`
/// (``ComputeSettings``).
struct FunctionSetup {
    /// function.json.
    let configuration: FunctionConfiguration
    /// The encoder's settings, already applied to the kernels and thread pool.
    let compute: ComputeSettings
    /// The function's name (metrics dimension).
    let functionName: String
    /// The function's version, `$LATEST` or a published number (metrics dimension).
    let functionVersion: String
    /// Where EMF lines go.
    let outputFileDescriptor: Int32
    private let context: HandlerInitContext

    init(_ context: HandlerInitContext) throws {
        self.context = context
        configuration = try FunctionConfiguration.load(taskRoot: context.function.taskRoot)
        do {
            compute = try ComputeSettings(lookup: context.variable)
            try compute.apply()
        } catch {
            throw ConfigurationError(error.description)
        }
        functionName = context.function.name
        functionVersion = context.function.version
        outputFileDescriptor = context.outputFileDescriptor
    }

    /// The file named by `variable` when set, else by function.json's `key` (default `fallback`); relative names
    /// are under the task root.
    func path(variable: String, key: String, default fallback: String) throws -> String {
        if let value = context.variable(variable), !value.isEmpty { return value }
        let name = try configuration.string(key, default: fallback)
        if name.hasPrefix("/") { return name }
        let root = context.function.taskRoot
        return (root.isEmpty ? "." : root) + "/" + name
    }

    /// Maps the function's model, with function.json's `prompts` (name → text, added to the model's or replacing
    /// them) and `defaultPromptName`.
    func model() throws -> EmbeddingModel {
        var prompts: [String: String] = [:]
        if let value = configuration.value("prompts"), value != .null {
            guard let members = value.object else {
                throw ConfigurationError("function.json: prompts must be an object")
            }
            for (name, text) in members {
                guard let text = text.string else {
                    throw ConfigurationError("function.json: prompts.\(name) must be a string")
                }
                prompts[name] = text
            }
        }
        let named = configuration.value("defaultPromptName").map { $0 != .null } ?? false
        let defaultName = named ? try configuration.string("defaultPromptName", default: "") : nil
        return try open(variable: "FLINT_MODEL", key: "model", default: "model.flint") {
            try EmbeddingModel(path: $0, compute: compute, prompts: prompts, defaultPromptName: defaultName)
        }
    }

    /// Opens the file `path(variable:key:default:)` names with `body`. A file the variable names that cannot be
    /// used is a bad setting (`Runtime.ConfigInvalid` naming the variable); one from function.json or the default
    /// keeps its own error.
    func open<T>(variable: String, key: String, default fallback: String, _ body: (String) throws -> T) throws -> T {
        let path = try path(variable: variable, key: key, default: fallback)
        let fromVariable = context.variable(variable).map { !$0.isEmpty } ?? false
        do {
            return try body(path)
        } catch let error where fromVariable && !(error is ConfigurationError) {
            throw ConfigurationError("\(variable) '\(path)' cannot be used: \(error)")
        }
    }

    /// The EMF writer, from `metrics` in function.json.
    func metrics(model: EmbeddingModel?) throws -> MetricsEmitter {
        try MetricsEmitter(
            configuration: configuration, functionName: functionName, functionVersion: functionVersion, model: model,
            fileDescriptor: outputFileDescriptor
        )
    }
}
