#!/usr/bin/env python3
"""pika-publish.py URL EXCHANGE FILE: publish an NDJSON file as a plain pika script would.

One persistent message per event, the contract's properties, mandatory, publisher confirms
(BlockingConnection: each basic_publish waits for its confirm). Prints one JSON line."""
import json, sys, time
import pika

url, exchange, path = sys.argv[1:4]
start = time.monotonic()
conn = pika.BlockingConnection(pika.URLParameters(url))
channel = conn.channel()
channel.confirm_delivery()
count = 0
with open(path, "rb") as f:
    for line in f:
        if not line.strip():
            continue
        event = json.loads(line)
        props = pika.BasicProperties(content_type="application/cloudevents+json", message_id=event["id"],
                                     type=event["type"], app_id=event["source"], timestamp=int(time.time()),
                                     delivery_mode=2)
        channel.basic_publish(exchange, event["type"], line.rstrip(b"\r\n"), props, mandatory=True)
        count += 1
conn.close()
seconds = time.monotonic() - start
print(json.dumps({"client": "pika", "events": count, "seconds": round(seconds, 3), "rate": round(count / seconds)}))
