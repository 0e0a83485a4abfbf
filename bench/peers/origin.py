#!/usr/bin/python3
"""Pushpin's origin for bench/compare: every poll /poll/<channel> becomes a hold on <channel>.

It also answers GET /_parked (asked directly, not through Pushpin) with how many polls are held
right now: holds it granted, minus the messages Pushpin says it sent to clients (the
`message_sent` counter of its Prometheus endpoint, read at most every 20 ms), counting a hold
only 500 ms after it was granted so that Pushpin has registered it (under a burst of
re-polls, its proxy-to-handler hand-over took longer than 50 ms here). The load generator waits
on that count before each publish, since Pushpin keeps no message for a subscriber that is not
held yet. (Reading Pushpin's ZeroMQ stats socket instead broke its deliveries: with a
subscriber connected, published items made it re-request the origin.)

usage: origin.py PORT METRICS_URL   (METRICS_URL: http://127.0.0.1:<prometheus_port>/metrics)
"""
import collections
import http.server
import re
import sys
import threading
import time
import urllib.request

lock = threading.Lock()
granted = 0                       # holds granted
recent = collections.deque()      # grant times of the last SETTLE seconds
SETTLE = 0.5
sent = {"value": 0, "at": 0.0}    # Pushpin's message_sent, and when it was read
SENT = re.compile(rb"^message_sent (\d+)", re.M)


def messages_sent(url):
    now = time.monotonic()
    if now - sent["at"] > 0.02:
        with urllib.request.urlopen(url, timeout=2) as r:
            m = SENT.search(r.read())
        sent["value"] = int(m.group(1)) if m else 0
        sent["at"] = now
    return sent["value"]


class Origin(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, body, headers=()):
        self.send_response(200)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        global granted
        if self.path == "/_parked":
            now = time.monotonic()
            with lock:
                while recent and now - recent[0] > SETTLE:
                    recent.popleft()
                count = max(granted - len(recent) - messages_sent(METRICS), 0)
            self.reply(str(count).encode(), [("Content-Type", "text/plain")])
            return
        channel = self.path.split("?", 1)[0].rsplit("/", 1)[-1]
        with lock:
            granted += 1
            recent.append(time.monotonic())
        self.reply(b"timeout\n", [("Content-Type", "text/plain"), ("Grip-Hold", "response"),
                                  ("Grip-Channel", channel), ("Grip-Timeout", "30")])

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 4096     # the default of 5 drops connections under a burst of polls
    daemon_threads = True


if __name__ == "__main__":
    METRICS = sys.argv[2]
    Server(("127.0.0.1", int(sys.argv[1])), Origin).serve_forever()
