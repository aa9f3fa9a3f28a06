#!/usr/bin/env python3
"""Streamed versus buffered embeddings through the emulator: time to first byte and total time.

  deploy/build-bootstrap; deploy/model; swift build -c release --product flint
  python3 Benchmarks/streaming_bench.py [texts] [rounds]

Starts `flint emulate embed` (release) on a private port with a function.json allowing large requests, then for
each round: a streamed request (boto3 invoke_with_response_stream, "stream": true) and a buffered one (invoke),
interleaved, same texts; prints medians. A buffered answer over 6 MB fails with Function.ResponseSizeTooLarge,
which is reported as such (with the time it took to fail).
"""
import json, os, statistics, subprocess, sys, tempfile, time, urllib.request

import boto3, botocore

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
count = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
encoding = sys.argv[3] if len(sys.argv) > 3 else "float"
flint = subprocess.check_output(["swift", "build", "-c", "release", "--show-bin-path"], cwd=root, text=True).strip() + "/flint"
bootstrap = os.path.join(root, ".build/lambda/bin/bootstrap")
model = os.path.join(root, ".build/models/all-MiniLM-L6-v2.flint")

functions = tempfile.mkdtemp()
os.makedirs(os.path.join(functions, "embed"))
config = json.load(open(os.path.join(root, "functions/embed/function.json")))
config["limits"].update({"maxInputs": 10000, "maxTotalTokens": 2560000, "maxStreamedInputs": 10000})
config["timeoutSeconds"] = 900
json.dump(config, open(os.path.join(functions, "embed/function.json"), "w"))
port = 9300 + os.getpid() % 500
emulator = subprocess.Popen([flint, "emulate", "embed", "--bootstrap", bootstrap, "--functions-dir", functions, "--port", str(port),
                             "--env", f"FLINT_MODEL={model}", "--quiet", "--no-stream-bandwidth-limit"], stdout=subprocess.DEVNULL)
for _ in range(100):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/stats"); break
    except OSError:
        time.sleep(0.1)
client = boto3.client("lambda", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1", aws_access_key_id="x",
                      aws_secret_access_key="x", config=botocore.config.Config(read_timeout=900, retries={"max_attempts": 1}))
texts = [f"Document {i} describes how serverless functions embed sentences quickly." for i in range(count)]
client.invoke(FunctionName="embed", Payload=json.dumps({"input": "warm up"}))
results = {"streamed": [], "buffered": []}
try:
    for _ in range(rounds):
        started = time.time()
        answer = client.invoke_with_response_stream(FunctionName="embed", Payload=json.dumps({"input": texts, "stream": True, "encoding_format": encoding}))
        first, size, error = None, 0, None
        for event in answer["EventStream"]:
            if "PayloadChunk" in event:
                first = first or time.time() - started
                size += len(event["PayloadChunk"]["Payload"])
            elif "InvokeComplete" in event:
                error = event["InvokeComplete"].get("ErrorCode")
        results["streamed"].append((first, time.time() - started, size, error))
        started = time.time()
        answer = client.invoke(FunctionName="embed", Payload=json.dumps({"input": texts, "encoding_format": encoding}))
        body = answer["Payload"].read()
        total = time.time() - started
        results["buffered"].append((total, total, len(body), answer.get("FunctionError") and json.loads(body).get("errorType")))
finally:
    emulator.terminate()
    emulator.wait()
for name, rows in results.items():
    first = statistics.median(r[0] for r in rows if r[0] is not None) if any(r[0] for r in rows) else float("nan")
    total = statistics.median(r[1] for r in rows)
    print(f"{name}: {count} texts ({encoding}), first byte {first * 1000:.0f} ms, total {total * 1000:.0f} ms, "
          f"{rows[-1][2] / 1e6:.1f} MB, error {rows[-1][3]}")
