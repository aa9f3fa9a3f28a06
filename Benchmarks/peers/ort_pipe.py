#!/usr/bin/env python3
"""ONNX Runtime int8 behind the same pipe protocol as `flint embed --unbuffered`: one JSON string per line in, one
JSON array (the mean-pooled, normalised embedding) per line out, as soon as each line is done. For
encoder_vs_ort.py --symmetric, so that both engines pay a process boundary.

  python3 Benchmarks/peers/ort_pipe.py MODEL.onnx TOKENIZER.json THREADS
"""
import json
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

model, tokenizer_path, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
options = ort.SessionOptions()
options.intra_op_num_threads = threads
options.inter_op_num_threads = 1
options.add_session_config_entry("session.intra_op.allow_spinning", "0")
session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
tokenizer = Tokenizer.from_file(tokenizer_path)
tokenizer.no_padding()
tokenizer.enable_truncation(256)
for line in sys.stdin:
    encoding = tokenizer.encode(json.loads(line))
    ids = np.array([encoding.ids], dtype=np.int64)
    mask = np.array([encoding.attention_mask], dtype=np.int64)
    hidden = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
    pooled = (hidden * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
    pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
    sys.stdout.write(json.dumps(pooled[0].tolist()) + "\n")
    sys.stdout.flush()
