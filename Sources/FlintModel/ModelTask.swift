import FlintJSON

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What a model's encoder output is for and how it becomes an answer: a sentence embedding (pooling,
/// normalisation, prompts) or a sequence classification (a head on `[CLS]`, its labels and score functions).
///
/// Written into a model file's metadata by the quantizer and read back from it (``init(metadata:)``), so the
/// functions and the encoder agree on one description. It describes; it computes nothing.
public struct ModelTask: Sendable, Equatable {
    /// How token vectors become one (sentence-transformers' `Pooling` modes that Flint implements).
    public enum Pooling: String, Sendable, CaseIterable {
        /// The `[CLS]` vector.
        case cls
        /// The mean over tokens.
        case mean
        /// The element-wise maximum over tokens.
        case max
        /// The sum over tokens divided by the square root of their count (`mean_sqrt_len_tokens`).
        case meanSqrtLength = "mean_sqrt_len"
    }

    /// A classifier's problem type, as `config.json`'s `problem_type` says (absent: inferred as `transformers` does).
    public enum ProblemType: String, Sendable {
        /// One label per text: a softmax over the labels.
        case singleLabel = "single_label_classification"
        /// Labels independent of each other: a sigmoid each.
        case multiLabel = "multi_label_classification"
        /// A value, not a label: raw outputs.
        case regression
    }

    /// A function applied to a classifier's outputs.
    public enum ScoreFunction: String, Sendable {
        /// Exponentials normalised over the labels.
        case softmax
        /// 1 / (1 + e^−x), each output alone.
        case sigmoid
        /// The raw value.
        case identity
        /// tanh, each output alone.
        case tanh

        /// The function over one text's outputs.
        public func callAsFunction(_ values: [Float]) -> [Float] {
            switch self {
            case .identity: return values
            case .sigmoid: return values.map { 1 / (1 + expf(-$0)) }
            case .tanh: return values.map { tanhf($0) }
            case .softmax:
                let largest = values.max() ?? 0
                let exponentials = values.map { expf($0 - largest) }
                let total = exponentials.reduce(0, +)
                return exponentials.map { $0 / total }
            }
        }
    }

    /// The layers between `[CLS]` and the classifier.
    public enum HeadKind: String, Sendable {
        /// BERT's pooler: dense + tanh (`pooler.dense`), then `classifier`.
        case poolerTanh = "pooler-tanh"
        /// DistilBERT's: `pre_classifier` + ReLU, then `classifier`.
        case preClassifierReLU = "pre-classifier-relu"
    }

    /// A sequence-classification head.
    public struct Classifier: Sendable, Equatable {
        /// Its layers before the classifier.
        public var head: HeadKind
        /// The labels in output order (`id2label`).
        public var labels: [String]
        /// `problem_type`, nil when the checkpoint leaves it to be inferred.
        public var problemType: ProblemType?
        /// What sentence-transformers' `CrossEncoder.predict` applies to the outputs (its `activation_fn`; by
        /// default sigmoid for one label, identity otherwise).
        public var crossEncoderActivation: ScoreFunction

        /// What the `transformers` text-classification pipeline applies: none for regression, sigmoid for
        /// multi-label or a single output, softmax otherwise.
        public var pipelineFunction: ScoreFunction {
            if problemType == .regression { return .identity }
            if problemType == .multiLabel || labels.count == 1 { return .sigmoid }
            return .softmax
        }

        /// Creates a head description.
        public init(
            head: HeadKind, labels: [String], problemType: ProblemType?, crossEncoderActivation: ScoreFunction
        ) {
            self.head = head
            self.labels = labels
            self.problemType = problemType
            self.crossEncoderActivation = crossEncoderActivation
        }
    }

    /// The pooling an embedding uses (embedding models; a classifier reads `[CLS]` through its head).
    public var pooling: Pooling = .mean
    /// Whether embeddings are L2-normalised (a `Normalize` module).
    public var normalize = false
    /// Prompts by name (`config_sentence_transformers.json`'s `prompts`), prepended to a text before tokenizing.
    public var prompts: [String: String] = [:]
    /// The prompt applied when a request names none, if any.
    public var defaultPromptName: String? = nil
    /// The classification head, nil for an embedding model.
    public var classifier: Classifier? = nil

    /// An embedding model with mean pooling, no normalisation and no prompts.
    public init() {}

    /// Reads the metadata members ``metadataMembers`` writes (version 2 files: `pooling` and `normalize` only);
    /// an unknown value is an error naming the key.
    public init(metadata: JSONValue) throws(ModelFileError) {
        let poolingName = metadata["pooling"]?.string ?? "mean"
        guard let pooling = Pooling(rawValue: poolingName) else {
            throw ModelFileError(
                "metadata: pooling '\(poolingName)' is not one of \(Pooling.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        self.pooling = pooling
        normalize = metadata["normalize"]?.bool ?? false
        for (name, value) in metadata["prompts"]?.object ?? [:] {
            guard let text = value.string else { throw ModelFileError("metadata: prompts.\(name) is not a string") }
            prompts[name] = text
        }
        defaultPromptName = metadata["defaultPromptName"]?.string
        if let name = defaultPromptName, prompts[name] == nil {
            throw ModelFileError("metadata: defaultPromptName '\(name)' is not one of the prompts")
        }
        guard let head = metadata["classifier"], head != .null else { return }
        func read<T: RawRepresentable>(_ key: String, _ type: T.Type) throws(ModelFileError) -> T?
        where T.RawValue == String {
            guard let value = head[key], value != .null else { return nil }
            guard let text = value.string, let parsed = T(rawValue: text) else {
                throw ModelFileError("metadata: classifier.\(key) has an unknown value")
            }
            return parsed
        }
        guard let kind = try read("head", HeadKind.self) else {
            throw ModelFileError("metadata: classifier.head is missing")
        }
        guard let labels = head["labels"]?.array?.compactMap(\.string), !labels.isEmpty else {
            throw ModelFileError("metadata: classifier.labels is missing or empty")
        }
        classifier = Classifier(
            head: kind, labels: labels, problemType: try read("problemType", ProblemType.self),
            crossEncoderActivation: try read("crossEncoderActivation", ScoreFunction.self)
                ?? (labels.count == 1 ? .sigmoid : .identity))
    }

    /// The metadata members describing this task.
    public var metadataMembers: [String: JSONValue] {
        var members: [String: JSONValue] = ["pooling": .string(pooling.rawValue), "normalize": .bool(normalize)]
        if !prompts.isEmpty { members["prompts"] = .object(prompts.mapValues { .string($0) }) }
        if let defaultPromptName { members["defaultPromptName"] = .string(defaultPromptName) }
        if let classifier {
            var head: [String: JSONValue] = [
                "head": .string(classifier.head.rawValue), "labels": .array(classifier.labels.map { .string($0) }),
                "crossEncoderActivation": .string(classifier.crossEncoderActivation.rawValue),
            ]
            if let problem = classifier.problemType { head["problemType"] = .string(problem.rawValue) }
            members["classifier"] = .object(head)
        }
        return members
    }
}
