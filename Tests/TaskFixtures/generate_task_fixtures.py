#!/usr/bin/env python3
"""Makes the task-head fixtures: small random-weight checkpoints saved the way `transformers` and
`sentence-transformers` save them, and what those libraries compute on them (run once by hand; outputs committed).

  pip install torch transformers sentence-transformers
  HF_HUB_OFFLINE=1 python3 Tests/TaskFixtures/generate_task_fixtures.py

Checkpoints (hidden 32, 2 layers, 4 heads, a 400-piece WordPiece vocabulary, weights drawn wider than the usual
initialiser so that outputs differ from text to text):
  rerank-bert/              BertForSequenceClassification, 1 label, saved by CrossEncoder (max_length 40)
  classify-bert/            BertForSequenceClassification, 3 labels, single-label (softmax)
  classify-distilbert/      DistilBertForSequenceClassification, 4 labels, multi_label_classification (sigmoid)
  regress-distilbert/       DistilBertForSequenceClassification, 1 label, regression (raw value)
  embed-distilbert-prompts/ SentenceTransformer over DistilBertModel: mean pooling, Normalize, query/document prompts
  embed-bert-prompts/       SentenceTransformer over BertModel: mean_sqrt_len_tokens pooling, no Normalize, prompts
                            with a default prompt name
References (references.json):
  rerank:   CrossEncoder.predict on query/document pairs (after its activation)
  classify: the text-classification pipeline's scores for every label (top_k=None), per checkpoint
  embed:    SentenceTransformer.encode(..., prompt_name=...) per prompt name (null: the model's default)
"""
import json
import os
import re
import shutil

import torch
from sentence_transformers import CrossEncoder, SentenceTransformer
from sentence_transformers.sentence_transformer.modules import Pooling
from sentence_transformers.base.modules import Normalize, Transformer
from transformers import (BertConfig, BertForSequenceClassification, BertModel, BertTokenizerFast, DistilBertConfig,
                          DistilBertForSequenceClassification, DistilBertModel, pipeline)

HERE = os.path.dirname(os.path.abspath(__file__))

QUERY = "how do i reset my password"
DOCUMENTS = [
    "to reset your password open the account settings and choose reset password",
    "the weather today is sunny with a light wind from the west",
    "password rules: at least twelve characters, one number and one symbol",
    "our office is closed on public holidays",
    "if you forgot your password, the login page has a link to reset it by email",
    "billing questions go to the finance team",
    # long enough that the pair is truncated (the document side first, then both)
    " ".join(["the account settings page lists every option you can change"] * 6),
]
LONG_QUERY = " ".join(["please tell me how to reset my password when i cannot log in"] * 4)
TEXTS = [
    "i love this product, it works great",
    "the app crashes every time i open settings",
    "can i get a refund for my last invoice?",
    "thank you for the quick help!",
    "Hello, World! Über naïve café 42",
    " ".join(["the order arrived late and the box was damaged"] * 8),
]


def vocabulary():
    words = set()
    for text in DOCUMENTS + [QUERY, LONG_QUERY] + TEXTS + ["query", "passage", "search_query", "search_document"]:
        words.update(re.findall(r"[a-z]+", text.lower()))
    # A few words are left out so that WordPiece splits them into pieces.
    words -= {"password", "settings", "refund", "holidays", "damaged"}
    chars = [chr(c) for c in range(33, 127) if not chr(c).isupper()]
    pieces = ["##" + c for c in "abcdefghijklmnopqrstuvwxyz0123456789"]
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + chars + pieces + sorted(words) + ["pass", "##word"]
    return list(dict.fromkeys(vocab))


def widen(model, seed):
    """Draws every weight wider than the default initialiser (std 0.02 makes every output nearly the same)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            noise = torch.randn(parameter.shape, generator=generator)
            if "LayerNorm" in name or "layer_norm" in name:
                parameter.copy_((1.0 if name.endswith("weight") else 0.0) + 0.1 * noise)
            else:
                parameter.copy_(0.15 * noise)
    return model.eval()


def tokenizer(folder):
    return BertTokenizerFast(vocab=os.path.join(folder, "vocab.txt"), do_lower_case=True, model_max_length=64)


def fresh(name, vocab):
    folder = os.path.join(HERE, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    with open(os.path.join(folder, "vocab.txt"), "w") as out:
        out.write("\n".join(vocab) + "\n")
    return folder


def bert_config(vocab, **extra):
    return BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                      intermediate_size=64, max_position_embeddings=64, type_vocab_size=2, **extra)


def distilbert_config(vocab, **extra):
    return DistilBertConfig(vocab_size=len(vocab), dim=32, n_layers=2, n_heads=4, hidden_dim=64,
                            max_position_embeddings=64, **extra)


def save_hf(model, folder):
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer(folder).save_pretrained(folder)


def classify_reference(folder):
    classifier = pipeline("text-classification", model=folder, tokenizer=folder, device="cpu", top_k=None)
    return [{item["label"]: item["score"] for item in scores} for scores in classifier(TEXTS, truncation=True)]


def main():
    vocab = vocabulary()
    references = {"query": QUERY, "long_query": LONG_QUERY, "documents": DOCUMENTS, "texts": TEXTS}

    # A cross-encoder: BertForSequenceClassification with one label, saved by sentence-transformers.
    folder = fresh("rerank-bert", vocab)
    save_hf(widen(BertForSequenceClassification(bert_config(vocab, num_labels=1)), 1), folder)
    encoder = CrossEncoder(folder, max_length=40, device="cpu")
    encoder.save(folder)
    pairs = [(QUERY, d) for d in DOCUMENTS] + [(LONG_QUERY, d) for d in DOCUMENTS]
    references["rerank"] = [float(s) for s in encoder.predict(pairs)]
    references["rerank_logits"] = [float(s) for s in encoder.predict(pairs, activation_fn=torch.nn.Identity())]

    folder = fresh("classify-bert", vocab)
    labels = {0: "negative", 1: "neutral", 2: "positive"}
    config = bert_config(vocab, num_labels=3, id2label=labels, label2id={v: k for k, v in labels.items()})
    save_hf(widen(BertForSequenceClassification(config), 2), folder)
    references["classify-bert"] = classify_reference(folder)

    folder = fresh("classify-distilbert", vocab)
    labels = {0: "billing", 1: "bug", 2: "praise", 3: "account"}
    config = distilbert_config(vocab, num_labels=4, id2label=labels, label2id={v: k for k, v in labels.items()},
                               problem_type="multi_label_classification")
    save_hf(widen(DistilBertForSequenceClassification(config), 3), folder)
    references["classify-distilbert"] = classify_reference(folder)

    folder = fresh("regress-distilbert", vocab)
    config = distilbert_config(vocab, num_labels=1, problem_type="regression", id2label={0: "score"},
                               label2id={"score": 0})
    save_hf(widen(DistilBertForSequenceClassification(config), 4), folder)
    references["regress-distilbert"] = classify_reference(folder)

    # Embedding models with prompts.
    embed = {}
    for name, base, pooling, normalize, prompts, default in [
        ("embed-distilbert-prompts", DistilBertModel(distilbert_config(vocab)), "mean", True,
         {"query": "query: ", "document": "passage: "}, None),
        ("embed-bert-prompts", BertModel(bert_config(vocab), add_pooling_layer=False), "mean_sqrt_len_tokens", False,
         {"query": "search_query: ", "document": "search_document: "}, "document"),
    ]:
        folder = fresh(name, vocab)
        save_hf(widen(base, 5), folder)
        transformer = Transformer(folder, max_seq_length=48)
        modules = [transformer, Pooling(32, pooling_mode=pooling)] + ([Normalize()] if normalize else [])
        model = SentenceTransformer(modules=modules, prompts=prompts, default_prompt_name=default, device="cpu")
        shutil.rmtree(folder)
        model.save(folder)
        reloaded = SentenceTransformer(folder, device="cpu")
        embed[name] = {str(p): reloaded.encode(TEXTS, prompt_name=p).tolist() for p in [None, "query", "document"]}
    references["embed"] = embed

    with open(os.path.join(HERE, "references.json"), "w") as out:
        json.dump(references, out, indent=1)
    print("fixtures written:", ", ".join(sorted(k for k in references if k not in ("documents", "texts"))))


if __name__ == "__main__":
    main()
