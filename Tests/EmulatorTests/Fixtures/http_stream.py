# A plain HTTP client on the emulator's Function URL path: prints one JSON line with the status, headers, and
# each body line with its arrival time (seconds after the request was sent).
import http.client, json, sys, time

port, method, path, body = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
started = time.time()
connection.request(method, path, body=body.encode() if body else None)
response = connection.getresponse()
lines = []
while True:
    line = response.readline()
    if not line:
        break
    lines.append({"text": line.decode("utf-8", "replace").rstrip("\n"), "at": time.time() - started})
print(json.dumps({"status": response.status, "headers": {k.lower(): v for k, v in response.getheaders()}, "lines": lines,
                  "cookies": response.headers.get_all("Set-Cookie") or []}))
