#!/usr/bin/env python3
"""ONNX Runtime int8's fidelity on the encoder fixture, measured the way EncoderFidelityTests measures Flint's:
cosine of each text's mean-pooled, normalised embedding against sentence-transformers fp32 (the committed
Tests/EmbedderTests/Fixtures/minilm.npy), and nearest-neighbour agreement over every 5th text, strict and with
ties in the fp32 reference counted as ties (candidates within 1e-6 of the best score: identical inputs, such as
all-[UNK] texts, differ there only by the reference's rounding). Run by hand, after export_onnx.py:

  python3 Benchmarks/peers/fidelity.py .build/peers [minilm-int8.onnx ...]
"""
import json
import os
import sys

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

folder = sys.argv[1] if len(sys.argv) > 1 else ".build/peers"
names = sys.argv[2:] or ["minilm-int8.onnx"]
fixtures = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "EmbedderTests", "Fixtures")
texts = [json.loads(line)["text"] for line in open(os.path.join(fixtures, "texts.jsonl"), encoding="utf-8")]
reference = np.load(os.path.join(fixtures, "minilm.npy")).astype(np.float64)
tokenizer = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
tokenizer.no_padding()   # the saved tokenizer pads to 128; one text at a time needs none
tokenizer.enable_truncation(256)


def unit(rows):
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


def nearest(vectors, query):
    scores = vectors @ vectors[query]
    scores[query] = -np.inf
    return int(np.argmax(scores)), scores


expected = unit(reference)
for name in names:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(os.path.join(folder, name), options, providers=["CPUExecutionProvider"])
    rows = []
    for text in texts:   # one at a time: no padding, as Flint's single-text path
        ids = np.array([tokenizer.encode(text).ids], dtype=np.int64)
        mask = np.ones_like(ids)
        hidden = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0][0]
        rows.append(hidden.mean(axis=0))
    got = unit(np.array(rows, dtype=np.float64))
    cosines = (got * expected).sum(axis=1)
    queries = range(0, len(texts), 5)
    strict = tied = 0
    for query in queries:
        best, reference_scores = nearest(expected, query)
        pick, _ = nearest(got, query)
        strict += pick == best
        tied += reference_scores[pick] >= reference_scores[best] - 1e-6
    print(f"{name}: mean cosine {cosines.mean():.5f}, minimum {cosines.min():.5f}, "
          f"nearest neighbour {strict}/{len(queries)} strict, {tied}/{len(queries)} with reference ties as ties")
