"""The dev overlay's demo agent: one chat call every two seconds through its sidecar (OPENAI_BASE_URL)."""
import json
import os
import time
import urllib.request

BASE = os.environ["OPENAI_BASE_URL"].rstrip("/")
while True:
    body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "ping"}]}).encode()
    request = urllib.request.Request(
        BASE + "/chat/completions", data=body,
        headers={"content-type": "application/json", "authorization": "Bearer demo",
                 "x-agentledger-agent-name": "demo-agent", "x-agentledger-session-id": os.environ.get("HOSTNAME", "demo")})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            print(response.status, flush=True)
    except Exception as error:  # the next call tries again
        print("call failed:", error, flush=True)
    time.sleep(2)
