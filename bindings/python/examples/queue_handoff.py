"""Write in one process, send a message, read the write in another process.

  python queue_handoff.py producer | python queue_handoff.py consumer

The producer "writes" (its response token is 0:1#100#1=20), seals the token into the message's
properties and prints the message as JSON; the consumer takes the token out and prints what it
would pass to azure-cosmos as session_token= for partition range 0.
"""

from __future__ import annotations

import json
import sys

from cosmos_session_token.messaging import put_token, take_token

KEY = b"queue-shared-secret-0123456789ab"
CONTEXT = "orders-queue"

if __name__ == "__main__":
    if sys.argv[1:] == ["producer"]:
        properties: dict = {}
        put_token(properties, "0:1#100#1=20,1:-1#42", key=KEY, context=CONTEXT)
        print(json.dumps({"body": {"order": 7}, "properties": properties}))
    elif sys.argv[1:] == ["consumer"]:
        message = json.loads(sys.stdin.read())
        token = take_token(message["properties"], keys=[KEY], context=CONTEXT)
        scoped = token.scope("0") if token is not None else None
        print(f"session_token for range 0: {scoped}")
    else:
        sys.exit("usage: queue_handoff.py producer|consumer")
