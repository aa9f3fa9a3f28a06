# The peer for the runtime benchmark: an echo function on AWS's Python runtime interface client (awslambdaric).
def handler(event, context):
    return event
