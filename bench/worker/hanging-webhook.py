#!/usr/bin/env python3
"""A webhook receiver that accepts every connection, reads what it is sent, and never answers:
the worst case for a notification channel. Usage: hanging-webhook.py PORT (runs until killed)."""
import socket
import sys
import threading


def hold(connection):
    with connection:
        while connection.recv(65536):
            pass


server = socket.create_server(("127.0.0.1", int(sys.argv[1])))
while True:
    connection, _ = server.accept()
    threading.Thread(target=hold, args=(connection,), daemon=True).start()
