#!/usr/bin/env python3
"""topology.py URL EXCHANGE QUEUE: (re)declare the benchmark's route: a durable topic exchange
and a fresh quorum queue bound to it with '#'; `topology.py URL - QUEUE depth` prints a depth."""
import sys
import pika

url, exchange, queue = sys.argv[1:4]
conn = pika.BlockingConnection(pika.URLParameters(url))
channel = conn.channel()
if len(sys.argv) > 4 and sys.argv[4] == "depth":
    print(channel.queue_declare(queue, passive=True).method.message_count)
else:
    channel.exchange_declare(exchange, "topic", durable=True)
    channel.queue_delete(queue)
    channel.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(queue, exchange, "#")
conn.close()
