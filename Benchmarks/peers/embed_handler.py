# The peer for the embedding benchmark: what an ML user deploys today. AWS's Python runtime interface client
# (awslambdaric) + ONNX Runtime int8 (dynamic quantization, per-channel weights) + HF tokenizers, model loaded once
# at init, one intra-op thread (as Flint is measured), OpenAI-shaped answers like functions/embed.
import os

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

_folder = os.environ["PEER_MODEL_DIR"]
_options = ort.SessionOptions()
_options.intra_op_num_threads = int(os.environ.get("PEER_THREADS", "1"))
_options.inter_op_num_threads = 1
_session = ort.InferenceSession(os.path.join(_folder, "minilm-int8.onnx"), _options, providers=["CPUExecutionProvider"])
_tokenizer = Tokenizer.from_file(os.path.join(_folder, "tokenizer.json"))
_tokenizer.enable_truncation(256)
_tokenizer.enable_padding()


def handler(event, context):
    texts = event["input"]
    if isinstance(texts, str):
        texts = [texts]
    encodings = _tokenizer.encode_batch(texts)
    ids = np.array([e.ids for e in encodings], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
    hidden = _session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
    pooled = (hidden * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
    pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": v.tolist()} for i, v in enumerate(pooled)],
        "model": "all-MiniLM-L6-v2",
        "usage": {"prompt_tokens": int(mask.sum()), "total_tokens": int(mask.sum())},
    }
