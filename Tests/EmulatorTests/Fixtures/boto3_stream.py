# InvokeWithResponseStream through boto3, unchanged, against Flint's emulator: prints one JSON line with each
# event's type, size and arrival time (seconds after the call), and the InvokeComplete fields.
import json, sys, time
import boto3, botocore

endpoint, function, payload = sys.argv[1], sys.argv[2], sys.argv[3]
client = boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test",
                      config=botocore.config.Config(retries={"max_attempts": 1}, read_timeout=120))
started = time.time()
answer = client.invoke_with_response_stream(FunctionName=function, Payload=payload.encode(), LogType="Tail")
events, body, complete = [], b"", None
for event in answer["EventStream"]:
    if "PayloadChunk" in event:
        chunk = event["PayloadChunk"]["Payload"]
        body += chunk
        events.append({"type": "PayloadChunk", "bytes": len(chunk), "at": time.time() - started})
    elif "InvokeComplete" in event:
        complete = event["InvokeComplete"]
        events.append({"type": "InvokeComplete", "at": time.time() - started})
print(json.dumps({"status": answer["StatusCode"], "events": events, "bodyBytes": len(body),
                  "bodyHead": body[:200].decode("utf-8", "replace"), "complete": complete}))
