import FlintJSON
import FlintModel
import Foundation
import TestSupport
import Testing
import WordPiece

/// What the quantizer reads of a checkpoint's task (heads, sentence-transformers metadata) and what it refuses,
/// on copies of the `Tests/TaskFixtures` checkpoints altered one file at a time.
@Suite struct CheckpointTaskTests {
    /// Quantizes a copy of fixture `name` after `alter` changed it; returns the metadata or the error's line.
    static func quantize(
        _ name: String, alter: (String) throws -> Void = { _ in }
    ) throws -> Result<JSONValue, ModelFileError> {
        let folder = try TaskFixtures.copy(name)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try alter(folder)
        do {
            return .success(try ModelFile(bytes: Quantizer.quantize(directory: folder, modelName: name).bytes).metadata)
        } catch {
            return .failure(error)
        }
    }

    /// Rewrites the JSON file `file` of `folder` with `change` applied to its document.
    static func edit(_ folder: String, _ file: String, _ change: (inout [String: JSONValue]) -> Void) throws {
        let path = folder + "/" + file
        var members = try JSONValue(parsing: Array(try Data(contentsOf: URL(fileURLWithPath: path)))).object ?? [:]
        change(&members)
        try Data(JSONValue.object(members).jsonBytes).write(to: URL(fileURLWithPath: path))
    }

    static func refusal(_ result: Result<JSONValue, ModelFileError>) -> String? {
        if case .failure(let error) = result { return error.message }
        return nil
    }

    @Test func headsPromptsAndPoolingGoIntoTheMetadata() throws {
        let rerank = try Self.quantize("rerank-bert").get()
        #expect(
            rerank["architecture"] == .string("bert")
                && rerank["modelClass"] == .string("BertForSequenceClassification"))
        #expect(rerank["classifier"]?["labels"] == .array([.string("LABEL_0")]))
        #expect(rerank["classifier"]?["crossEncoderActivation"] == .string("sigmoid"))
        let classify = try Self.quantize("classify-distilbert").get()
        #expect(classify["architecture"] == .string("distilbert") && classify["typeVocabSize"]?.integer == 0)
        #expect(classify["classifier"]?["problemType"] == .string("multi_label_classification"))
        #expect(classify["classifier"]?["head"] == .string("pre-classifier-relu"))
        let embed = try Self.quantize("embed-bert-prompts").get()
        #expect(embed["pooling"] == .string("mean_sqrt_len") && embed["normalize"] == .bool(false))
        #expect(embed["prompts"]?["query"] == .string("search_query: "))
        #expect(embed["defaultPromptName"] == .string("document") && embed["maxSequenceLength"]?.integer == 48)
        #expect(embed["classifier"] == nil)
        let normalized = try Self.quantize("embed-distilbert-prompts").get()
        #expect(normalized["pooling"] == .string("mean") && normalized["normalize"] == .bool(true))
    }

    @Test func legacyPoolingFlagsAndActivationNamesAreRead() throws {
        let cls = try Self.quantize("embed-distilbert-prompts") { folder in
            try Data(#"{"word_embedding_dimension": 32, "pooling_mode_cls_token": true}"#.utf8)
                .write(to: URL(fileURLWithPath: folder + "/1_Pooling/config.json"))
        }
        #expect(try cls.get()["pooling"] == .string("cls"))
        let identity = try Self.quantize("rerank-bert") { folder in
            try FileManager.default.removeItem(atPath: folder + "/config_sentence_transformers.json")
            try Self.edit(folder, "config.json") {
                $0["sbert_ce_default_activation_function"] = .string("torch.nn.modules.linear.Identity")
            }
        }
        #expect(try identity.get()["classifier"]?["crossEncoderActivation"] == .string("identity"))
    }

    @Test func whatFlintCannotServeIsRefusedByName() throws {
        let cases: [(String, (String) throws -> Void, String)] = [
            (
                "classify-bert",
                { try Self.edit($0, "config.json") { $0["architectures"] = .array([.string("BertForMaskedLM")]) } },
                "config.json: unsupported architecture BertForMaskedLM: Flint serves BertModel, BertForSequenceClassification, DistilBertModel, DistilBertForSequenceClassification; other heads (masked LM, token classification, question answering) are not read"
            ),
            (
                "classify-distilbert",
                {
                    try Self.edit($0, "config.json") {
                        $0["architectures"] = .array([.string("DistilBertForTokenClassification")])
                    }
                },
                "config.json: unsupported architecture DistilBertForTokenClassification: Flint serves BertModel, BertForSequenceClassification, DistilBertModel, DistilBertForSequenceClassification; other heads (masked LM, token classification, question answering) are not read"
            ),
            (
                "classify-bert", { try Self.edit($0, "config.json") { $0["model_type"] = .string("roberta") } },
                "config.json: unsupported architecture BertForSequenceClassification (model_type 'roberta'): Flint reads BERT and DistilBERT checkpoints (BertModel, BertForSequenceClassification, DistilBertModel, DistilBertForSequenceClassification)"
            ),
            (
                "embed-bert-prompts",
                { try Self.edit($0, "1_Pooling/config.json") { $0["pooling_mode"] = .string("weightedmean") } },
                "1_Pooling/config.json: pooling mode weightedmean is not supported (Flint pools by cls, mean, max or mean_sqrt_len_tokens)"
            ),
            (
                "embed-bert-prompts",
                {
                    try Self.edit($0, "1_Pooling/config.json") {
                        $0["pooling_mode"] = .array([.string("cls"), .string("mean")])
                    }
                },
                "1_Pooling/config.json: pooling modes cls + mean together are not supported (one mode only)"
            ),
            (
                "embed-bert-prompts",
                { try Self.edit($0, "1_Pooling/config.json") { $0["include_prompt"] = .bool(false) } },
                "1_Pooling/config.json: include_prompt false (prompt tokens left out of pooling) is not supported"
            ),
            (
                "embed-distilbert-prompts",
                { folder in
                    var modules = try JSONValue(
                        parsing: Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/modules.json")))
                    ).array!
                    modules.append(
                        .object(["path": .string("3_Dense"), "type": .string("sentence_transformers.models.Dense")]))
                    try Data(JSONValue.array(modules).jsonBytes).write(
                        to: URL(fileURLWithPath: folder + "/modules.json"))
                },
                "modules.json: module sentence_transformers.models.Dense ('3_Dense') is not supported (Flint reads Transformer, Pooling and Normalize)"
            ),
            (
                "classify-bert",
                { try Self.edit($0, "tokenizer.json") { $0["model"] = .object(["type": .string("BPE")]) } },
                "tokenizer.json: unsupported tokenizer type BPE: Flint implements BERT's WordPiece only"
            ),
            (
                "classify-bert",
                {
                    try Self.edit($0, "tokenizer_config.json") {
                        $0["tokenizer_class"] = .string("XLMRobertaTokenizer")
                    }
                },
                "tokenizer_config.json: unsupported tokenizer_class XLMRobertaTokenizer: Flint implements BERT's WordPiece only (BertTokenizer, BertTokenizerFast, DistilBertTokenizer, DistilBertTokenizerFast)"
            ),
            (
                "rerank-bert",
                {
                    try Self.edit($0, "config_sentence_transformers.json") {
                        $0["activation_fn"] = .string("torch.nn.modules.activation.GELU")
                    }
                },
                "CrossEncoder activation_fn torch.nn.modules.activation.GELU is not supported (Sigmoid, Identity, Tanh or Softmax)"
            ),
            (
                "classify-distilbert",
                { try Self.edit($0, "config.json") { $0["sinusoidal_pos_embds"] = .bool(true) } },
                "config.json: unsupported sinusoidal_pos_embds true: Flint reads learned position embeddings only"
            ),
        ]
        for (name, alter, message) in cases {
            #expect(Self.refusal(try Self.quantize(name, alter: alter)) == message)
        }
        let noVocabulary = Self.refusal(
            try Self.quantize("embed-bert-prompts") {
                try FileManager.default.removeItem(atPath: $0 + "/tokenizer.json")
            })
        #expect(
            noVocabulary?.hasSuffix("/vocab.txt is missing, and no tokenizer.json holds the WordPiece vocabulary")
                == true)
        let noHead = Self.refusal(
            try Self.quantize("classify-bert") { folder in
                try Self.edit(folder, "config.json") {
                    $0["id2label"] = .object(["0": .string("a"), "1": .string("b")])
                }
            })
        #expect(noHead == "model.safetensors: tensor classifier.weight has shape [3, 32], expected [2, 32]")
    }

    /// Version 2 files (embedding models, before task heads) open as before: `Fixtures/version2.flint` was written
    /// by the version 2 quantizer.
    @Test func versionTwoFilesOpenAsBefore() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "Fixtures/version2.flint"
        ).path
        let model = try ModelFile.open(path)
        #expect(model.version == 2)
        let task = try ModelTask(metadata: model.metadata)
        #expect(task.classifier == nil && task.prompts.isEmpty && task.pooling == .mean)
        #expect(try model.tokenizer().encode("hello world").ids.count >= 3)
    }
}
