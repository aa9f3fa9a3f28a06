# A deliberately misbehaving Lambda runtime for the emulator's tests (Python standard library only).
# Each event says what to do wrong; the runtime reports the Runtime API's answers in its final response.
import http.client, json, os

host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
conn = http.client.HTTPConnection(host, int(port))

def call(method, path, body=b"", headers=None):
    conn.request(method, "/2018-06-01/runtime" + path, body=body, headers=headers or {})
    reply = conn.getresponse()
    return reply.status, dict(reply.getheaders()), reply.read()

while True:
    status, headers, body = call("GET", "/invocation/next")
    if status != 200:
        raise SystemExit(1)
    request_id = headers["Lambda-Runtime-Aws-Request-Id"]
    event = json.loads(body or b"{}")
    if "oversize" in event:
        status, _, reply = call("POST", f"/invocation/{request_id}/response", b"x" * event["oversize"])
        print(json.dumps({"oversize_status": status, "reply": reply.decode()}), flush=True)
    elif event.get("wrong_id"):
        wrong, _, wrong_reply = call("POST", "/invocation/not-the-id/response", b"{}")
        call("POST", f"/invocation/{request_id}/response",
             json.dumps({"wrong_id_status": wrong, "reply": json.loads(wrong_reply)}).encode())
    elif event.get("bad_mode"):
        status, _, reply = call("POST", f"/invocation/{request_id}/response", b"{}",
                                {"Lambda-Runtime-Function-Response-Mode": "buffered"})
        print(json.dumps({"bad_mode_status": status, "reply": reply.decode()}), flush=True)
    elif event.get("bad_error_type"):
        call("POST", f"/invocation/{request_id}/error", b"not json", {"Lambda-Runtime-Function-Error-Type": "oops"})
    else:
        call("POST", f"/invocation/{request_id}/response", body)
