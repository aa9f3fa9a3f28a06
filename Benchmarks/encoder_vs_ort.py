#!/usr/bin/env python3
"""Flint's encoder against ONNX Runtime int8, side by side in one run (issue 5's comparison; run by hand, not in CI).

Flint runs as `flint embed --unbuffered` child processes (texts in on a pipe, JSON lines out), ONNX Runtime in this
process with HF `tokenizers`; both include tokenization and mean pooling, both use the same thread count. The
engines alternate in blocks of five calls, so the machine's drift (±30% here) hits both alike; medians and 10th percentiles
are reported, and ratios Flint / ORT of each. Flint pays for its pipe and JSON output (about 0.1 ms a text)
besides; ORT does not.

Cases: one text of ~10, ~60 and ~250 tokens (latency), and 512 of the encoder fixture's varied texts in batches
of 32 (throughput; ORT pads each batch to its longest text, Flint packs), and 512 short texts of nearly one
length in batches of 32 (where padding costs ORT almost nothing). ORT models: minilm-int8.onnx (per-channel
weights) and minilm-int8-tensor.onnx (its default, per-tensor), from Benchmarks/peers/export_onnx.py.

  swift build -c release --product flint
  python3 Benchmarks/peers/export_onnx.py .build/peers
  python3 Benchmarks/encoder_vs_ort.py --flint .build/release/flint --model .build/models/all-MiniLM-L6-v2.flint \\
      --peers .build/peers --threads 1 2 --rounds 200

--symmetric adds, for the single-text cases, ONNX Runtime behind the same pipe protocol in a child process
(peers/ort_pipe.py), so both engines pay a process boundary and JSON; its ratios are printed beside the others.
"""
import argparse
import json
import os
import subprocess
import time

# numpy's OpenBLAS starts a thread per core that spins after each call; on two cores it steals the CPU the engine
# under test runs on. One thread, set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
# Engines alternate in blocks of this many calls: both keep their idle threads spinning briefly after a call (ONNX
# Runtime by default, Flint for 200 µs), which on two cores would otherwise land on the other engine's every call.
BLOCK = 5
SHORT = "The quick brown fox jumps over the lazy dog."
MEDIUM = ("Serverless inference keeps a small model mapped in memory and answers each request in milliseconds, "
          "so a sentence embedding costs less than the network round trip that carries it to the caller's "
          "search index.")
LONG = " ".join([MEDIUM] * 5)


class FlintProcess:
    """`flint embed` on a pipe: one JSON string per text in, one JSON array per text out."""

    def __init__(self, flint, model, threads, batch):
        self.process = subprocess.Popen(
            [flint, "embed", "--model", model, "--threads", str(threads), "--batch", str(batch), "--unbuffered"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.output = self.process.stdout

    def embed(self, texts):
        self.process.stdin.write("".join(json.dumps(text) + "\n" for text in texts).encode())
        self.process.stdin.flush()
        return [self.output.readline() for _ in texts]

    def close(self):
        self.process.stdin.close()
        self.process.wait()


class ORTPipe(FlintProcess):
    """ONNX Runtime in a child process speaking `flint embed`'s line protocol (peers/ort_pipe.py)."""

    def __init__(self, model, tokenizer, threads):
        self.process = subprocess.Popen(
            ["python3", os.path.join(HERE, "peers", "ort_pipe.py"), model, tokenizer, str(threads)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.output = self.process.stdout


class ORTEncoder:
    def __init__(self, path, tokenizer_path, threads):
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # ONNX Runtime's idle intra-op threads spin by default, taking the other engine's core between calls: off,
        # as Flint's pool stops polling 200 µs after a call.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(tokenizer_path)
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(256)

    def embed(self, texts):
        if len(texts) == 1:
            encodings = [self.tokenizer.encode(texts[0])]
        else:
            self.tokenizer.enable_padding()
            encodings = self.tokenizer.encode_batch(texts)
            self.tokenizer.no_padding()
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
        pooled = (hidden * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def timed(engine, texts):
    start = time.perf_counter()
    engine.embed(texts)
    return (time.perf_counter() - start) * 1e3


def stats(values):
    values = sorted(values)
    return values[len(values) // 2], values[len(values) // 10]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--flint", default=".build/release/flint")
    parser.add_argument("--model", default=".build/models/all-MiniLM-L6-v2.flint")
    parser.add_argument("--peers", default=".build/peers")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--symmetric", action="store_true", help="also ORT behind a pipe, like Flint")
    arguments = parser.parse_args()
    corpus = [json.loads(line)["text"] for line in
              open(os.path.join(HERE, "..", "Tests", "EmbedderTests", "Fixtures", "texts.jsonl"), encoding="utf-8")]
    tokenizer = Tokenizer.from_file(os.path.join(arguments.peers, "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(256)
    cases = [(name, text, len(tokenizer.encode(text).ids)) for name, text in [("short", SHORT), ("medium", MEDIUM), ("long", LONG)]]
    # Whole batches only (512 of the 520 texts): the packed Flint process embeds when 32 lines have arrived.
    batches = [corpus[i:i + 32] for i in range(0, len(corpus) - 31, 32)]
    # And texts of nearly one length (11–13 tokens), where padding costs ORT almost nothing.
    short_texts = [f"Sentence number {i} is about serverless inference." for i in range(512)]
    uniform = [short_texts[i:i + 32] for i in range(0, 512, 32)]
    peers = [name for name in ["minilm-int8.onnx", "minilm-int8-tensor.onnx"] if os.path.exists(os.path.join(arguments.peers, name))]
    for threads in arguments.threads:
        print(f"== {threads} thread(s)")
        single = FlintProcess(arguments.flint, arguments.model, threads, 1)
        packed = FlintProcess(arguments.flint, arguments.model, threads, 32)
        engines = {"flint": single}
        engines.update({name: ORTEncoder(os.path.join(arguments.peers, name), os.path.join(arguments.peers, "tokenizer.json"), threads)
                        for name in peers})
        piped = [f"{name} (piped)" for name in peers] if arguments.symmetric else []
        engines.update({f"{name} (piped)": ORTPipe(os.path.join(arguments.peers, name), os.path.join(arguments.peers, "tokenizer.json"), threads)
                        for name in (peers if arguments.symmetric else [])})
        for name, text, tokens in cases:
            rounds = arguments.rounds if tokens < 100 else max(20, arguments.rounds // 5)
            times = {engine: [] for engine in engines}
            for engine in engines.values():
                engine.embed([text])   # warm
            for _ in range(rounds // BLOCK):
                for engine_name, engine in engines.items():
                    for _ in range(BLOCK):
                        times[engine_name].append(timed(engine, [text]))
            line = [f"{name} ({tokens} tokens):"]
            flint_median, flint_p10 = stats(times["flint"])
            line.append(f"flint {flint_median:.2f} ms (p10 {flint_p10:.2f})")
            for peer in peers + piped:
                median, p10 = stats(times[peer])
                line.append(f"{peer} {median:.2f} ms (p10 {p10:.2f}), ratio {flint_median / median:.2f} (p10 {flint_p10 / p10:.2f})")
            print("  " + "; ".join(line))
        throughput = {"flint": packed}
        throughput.update({name: engines[name] for name in peers})
        for corpus_name, corpus_batches in [("varied corpus", batches), ("uniform short texts", uniform)]:
            totals = {engine: [] for engine in throughput}
            for engine in throughput.values():
                engine.embed(corpus_batches[0])   # warm
            for _ in range(3):
                for batch in corpus_batches:
                    for engine_name, engine in throughput.items():
                        totals[engine_name].append(timed(engine, batch))
            rates = {engine: 1000 * sum(len(b) for b in corpus_batches) * 3 / sum(values) for engine, values in totals.items()}
            line = [f"{corpus_name} ({32 * len(corpus_batches)} texts, batches of 32): flint {rates['flint']:.0f} texts/s"]
            for peer in peers:
                line.append(f"{peer} {rates[peer]:.0f} texts/s, ratio {rates['flint'] / rates[peer]:.2f}")
            print("  " + "; ".join(line))
        single.close()
        packed.close()
        for name in piped:
            engines[name].close()


if __name__ == "__main__":
    main()
