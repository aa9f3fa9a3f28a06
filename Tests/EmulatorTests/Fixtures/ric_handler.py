# A handler for AWS's Python runtime interface client (awslambdaric) running under Flint's emulator.
def handler(event, context):
    if isinstance(event, dict) and "fail" in event:
        raise ValueError(event["fail"])
    return {"echo": event, "request_id": context.aws_request_id, "function": context.function_name,
            "remaining_ms": context.get_remaining_time_in_millis()}
