# A peer for the rerank benchmark, as an ML user deploys a reranker today: AWS's Python runtime interface client
# (awslambdaric) + ONNX Runtime int8 of the same cross-encoder (export_cross_encoder.py) + HF tokenizers, pairs
# padded to the longest, one intra-op thread (spinning off, as Flint is measured), model loaded at init,
# Cohere-shaped answers like functions/rerank. PEER_MODEL_DIR is export_cross_encoder.py's output folder;
# PEER_ONNX picks the per-channel (default) or per-tensor file.
import os

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

_folder = os.environ["PEER_MODEL_DIR"]
_options = ort.SessionOptions()
_options.intra_op_num_threads = int(os.environ.get("PEER_THREADS", "1"))
_options.inter_op_num_threads = 1
_options.add_session_config_entry("session.intra_op.allow_spinning", "0")
_session = ort.InferenceSession(
    os.path.join(_folder, os.environ.get("PEER_ONNX", "cross-encoder-int8.onnx")), _options,
    providers=["CPUExecutionProvider"])
_tokenizer = Tokenizer.from_file(os.path.join(_folder, "cross-encoder", "tokenizer.json"))
_tokenizer.enable_truncation(256)
_tokenizer.enable_padding()


def handler(event, context):
    encodings = _tokenizer.encode_batch([(event["query"], d) for d in event["documents"]])
    ids = np.array([e.ids for e in encodings], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
    types = np.array([e.type_ids for e in encodings], dtype=np.int64)
    logits = _session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0][:, 0]
    scores = 1 / (1 + np.exp(-logits))
    order = np.argsort(-scores)
    return {"results": [{"index": int(i), "relevance_score": float(scores[i])} for i in order],
            "model": "cross-encoder", "usage": {"total_tokens": int(mask.sum())}}
