# Invokes Flint's emulator with boto3, unchanged, and prints what boto3 saw as one JSON line.
import base64, json, sys
import boto3, botocore

endpoint = sys.argv[1]
client = boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test",
                      config=botocore.config.Config(retries={"max_attempts": 1}))
out = {}
ok = client.invoke(FunctionName="probe", Payload=b'{"hello": "boto3"}', LogType="Tail")
out["ok"] = {"status": ok["StatusCode"], "payload": json.loads(ok["Payload"].read()),
             "log": base64.b64decode(ok["LogResult"]).decode(), "version": ok.get("ExecutedVersion")}
failed = client.invoke(FunctionName="probe", Payload=b'{"fail": "nope", "type": "Refused"}')
out["failed"] = {"status": failed["StatusCode"], "function_error": failed.get("FunctionError"),
                 "payload": json.loads(failed["Payload"].read())}
event = client.invoke(FunctionName="probe", InvocationType="Event", Payload=b'{}')
out["event_status"] = event["StatusCode"]
dry = client.invoke(FunctionName="probe", InvocationType="DryRun", Payload=b'{}')
out["dry_status"] = dry["StatusCode"]
try:
    client.invoke(FunctionName="missing", Payload=b'{}')
    out["missing"] = "no error"
except client.exceptions.ResourceNotFoundException as error:
    out["missing"] = error.response["Error"]["Code"]
print(json.dumps(out))
