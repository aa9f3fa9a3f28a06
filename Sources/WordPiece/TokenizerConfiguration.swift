/// How a BERT WordPiece tokenizer normalises, splits and frames text: HF `tokenizers`' BertNormalizer,
/// BertPreTokenizer, WordPiece model and BERT post-processor settings.
public struct TokenizerConfiguration: Sendable, Equatable {
    /// Drop control characters and map whitespace to spaces.
    public var cleanText = true
    /// Surround CJK ideographs with spaces, so each is a word.
    public var handleChineseCharacters = true
    /// Lower-case (Unicode full mapping, per scalar, no context rules).
    public var lowercase = true
    /// NFD and drop nonspacing marks; nil means "same as `lowercase`", as in HF.
    public var stripAccents: Bool? = nil
    /// Words with more scalars than this become one `[UNK]`.
    public var maxInputCharsPerWord = 100
    /// Most tokens in an encoding, special tokens included (sentence-transformers' `max_seq_length`).
    public var maxLength = 256
    /// Prefix of word-continuation pieces.
    public var continuationPrefix = "##"
    /// The token for words with no WordPiece split.
    public var unknownToken = "[UNK]"
    /// The token that opens every sequence.
    public var classToken = "[CLS]"
    /// The token that ends each sequence of the input.
    public var separatorToken = "[SEP]"
    /// Added special tokens: matched in the raw text before normalisation and kept whole, as HF's added
    /// vocabulary does (so a text containing `[SEP]` gets the separator id there).
    public var specialTokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

    /// BERT's defaults (uncased, 256 tokens).
    public init() {}
}

/// Why a tokenizer could not be built.
public struct TokenizerError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What is wrong, naming the token or setting.
    public let message: String
    public var description: String { message }

    /// Creates an error with its message.
    public init(message: String) {
        self.message = message
    }
}

/// Token ids and their segment (token type) ids, special tokens included.
public struct Encoding: Sendable, Equatable {
    /// Token ids, starting with `[CLS]`.
    public var ids: [Int32]
    /// 0 for the first sequence (and its framing), 1 for the second of a pair.
    public var typeIDs: [Int32]
}
