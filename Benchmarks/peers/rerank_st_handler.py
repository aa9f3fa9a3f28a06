# A peer for the rerank benchmark: AWS's Python runtime interface client (awslambdaric) + sentence-transformers'
# CrossEncoder on torch (fp32), one thread, model loaded at init, Cohere-shaped answers like functions/rerank.
# PEER_MODEL_DIR is export_cross_encoder.py's output folder.
import os

import torch
from sentence_transformers import CrossEncoder

torch.set_num_threads(int(os.environ.get("PEER_THREADS", "1")))
_model = CrossEncoder(os.path.join(os.environ["PEER_MODEL_DIR"], "cross-encoder"), device="cpu")


def handler(event, context):
    scores = _model.predict([(event["query"], d) for d in event["documents"]], batch_size=32)
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    return {"results": [{"index": i, "relevance_score": float(scores[i])} for i in order], "model": "cross-encoder"}
