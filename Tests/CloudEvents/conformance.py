#!/usr/bin/env python3
"""Checks CloudEvents messages taken from the broker against the CloudEvents 1.0 JSON schema (with
format checks) and the official Python SDK.

Usage: conformance.py MESSAGES.jsonl

Each line of MESSAGES.jsonl: {"content_type": ..., "body_base64": ..., "expect": "valid"|"invalid"}.
A batch (application/cloudevents-batch+json) is a JSON array of events, each checked on its own
(the SDK has no batch reader). Exit 0 when every valid message conforms and every invalid one is
refused by the schema or the SDK; 1 otherwise, with one line per problem.
"""
import base64
import json
import os
import sys

from cloudevents.core.bindings.rabbitmq import RabbitMQMessage, from_rabbitmq
from cloudevents.core.formats.json import JSONFormat
from jsonschema import Draft7Validator

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cloudevents.schema.json")
BATCH = "application/cloudevents-batch+json"
SINGLE = "application/cloudevents+json"


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(SCHEMA, encoding="utf-8") as f:
        schema = json.load(f)
    checker = Draft7Validator.FORMAT_CHECKER
    missing = {"uri-reference", "date-time", "uri"} - set(checker.checkers)
    if missing:
        print(f"conformance: jsonschema cannot check the formats {sorted(missing)}: "
              "install jsonschema[format-nongpl] (scripts/cloudevents-venv)", file=sys.stderr)
        return 2
    validator = Draft7Validator(schema, format_checker=checker)
    json_format = JSONFormat()

    def problems_of(event_json: bytes):
        found = []
        try:
            document = json.loads(event_json)
        except ValueError as error:
            return [f"not JSON: {error}"]
        for error in validator.iter_errors(document):
            found.append(f"schema: {'/'.join(map(str, error.absolute_path)) or '(event)'}: {error.message}")
        try:
            event = from_rabbitmq(RabbitMQMessage(headers={}, content_type=SINGLE, body=event_json), json_format)
            if isinstance(document, dict):
                for name, got in (("id", event.get_id()), ("source", event.get_source()),
                                  ("type", event.get_type()), ("data", event.get_data())):
                    if got != document.get(name):
                        found.append(f"sdk: {name} read as {got!r}, written {document.get(name)!r}")
        except Exception as error:  # the SDK's own exception types vary by attribute
            found.append(f"sdk: {type(error).__name__}: {error}")
        return found

    messages = events = 0
    failures = []
    with open(sys.argv[1], encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            message = json.loads(line)
            body = base64.b64decode(message["body_base64"])
            expect = message.get("expect", "valid")
            messages += 1
            if message.get("content_type") == BATCH:
                elements = json.loads(body)
                if not isinstance(elements, list):
                    failures.append(f"message {number}: a batch that is not a JSON array")
                    continue
                parts = [json.dumps(element, ensure_ascii=False).encode() for element in elements]
            else:
                parts = [body]
            for index, part in enumerate(parts):
                events += 1
                problems = problems_of(part)
                if expect == "valid" and problems:
                    failures.append(f"message {number} event {index}: " + "; ".join(problems))
                elif expect == "invalid" and not problems:
                    failures.append(f"message {number} event {index}: expected the schema or the SDK to refuse it")
                elif expect == "invalid":
                    print(f"conformance: message {number} refused as expected: {problems[0]}")
    for failure in failures[:50]:
        print(failure)
    print(f"conformance: {messages} messages, {events} events checked, {len(failures)} problems")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
