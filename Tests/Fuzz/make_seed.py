#!/usr/bin/env python3
"""Writes a tiny random BERT checkpoint (standard library only) and quantizes it into Tests/Fuzz/seed.flint,
the model fuzzer's starting point.   python3 Tests/Fuzz/make_seed.py <path to flint>"""
import json, os, random, struct, subprocess, sys, tempfile

flint = sys.argv[1]
rng = random.Random(1)
h, i, layers, positions = 8, 16, 1, 8
vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "##s", "!", "日"]
shapes = {"embeddings.word_embeddings.weight": [len(vocab), h], "embeddings.position_embeddings.weight": [positions, h],
          "embeddings.token_type_embeddings.weight": [2, h], "embeddings.LayerNorm.weight": [h], "embeddings.LayerNorm.bias": [h]}
for layer in range(layers):
    p = f"encoder.layer.{layer}."
    for proj in ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"]:
        shapes[p + proj + ".weight"] = [h, h]; shapes[p + proj + ".bias"] = [h]
    shapes.update({p + "attention.output.LayerNorm.weight": [h], p + "attention.output.LayerNorm.bias": [h],
                   p + "intermediate.dense.weight": [i, h], p + "intermediate.dense.bias": [i],
                   p + "output.dense.weight": [h, i], p + "output.dense.bias": [h],
                   p + "output.LayerNorm.weight": [h], p + "output.LayerNorm.bias": [h]})
header, data = {}, b""
for name in sorted(shapes):
    count = 1
    for d in shapes[name]: count *= d
    chunk = struct.pack(f"<{count}f", *[rng.uniform(-0.2, 0.2) for _ in range(count)])
    header[name] = {"dtype": "F32", "shape": shapes[name], "data_offsets": [len(data), len(data) + len(chunk)]}
    data += chunk
with tempfile.TemporaryDirectory() as folder:
    blob = json.dumps(header).encode()
    open(os.path.join(folder, "model.safetensors"), "wb").write(struct.pack("<Q", len(blob)) + blob + data)
    json.dump({"model_type": "bert", "hidden_size": h, "num_hidden_layers": layers, "num_attention_heads": 2,
               "intermediate_size": i, "max_position_embeddings": positions, "vocab_size": len(vocab)},
              open(os.path.join(folder, "config.json"), "w"))
    open(os.path.join(folder, "vocab.txt"), "w").write("\n".join(vocab) + "\n")
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seed.flint")
    subprocess.check_call([flint, "quantize", folder, "-o", out, "--name", "fuzz-seed"])
