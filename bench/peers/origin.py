#!/usr/bin/python3
"""Pushpin's origin for bench/compare: every poll /poll/<channel> becomes a hold on <channel>.

Stateless, as in ../shared/spec/peers.md: each request is answered at once with the GRIP
headers of a response hold (except GET /_ready, answered plainly); the body ("timeout") is what Pushpin sends when the hold ends
empty. How many polls Pushpin really holds is told by bench/peers/pushpin_parked.py, not here:
that the origin answered a poll does not mean Pushpin's handler holds it yet.

usage: origin.py PORT [HOLD_SECONDS]   (HOLD_SECONDS: Grip-Timeout, default 55; bench/compare
       passes one longer than any of its Pushpin runs)
"""
import http.server
import sys


class Origin(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hold = "55"

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/_ready":  # bench/compare's start-up check through Pushpin: no hold
            body, grip = b"ready\n", ()
        else:
            body = b"timeout\n"
            grip = (("Grip-Hold", "response"), ("Grip-Channel", path.rsplit("/", 1)[-1]),
                    ("Grip-Timeout", self.hold))
        self.send_response(200)
        for k, v in (("Content-Type", "text/plain"), *grip, ("Content-Length", str(len(body)))):
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 4096     # the default of 5 drops connections under a burst of polls
    daemon_threads = True


if __name__ == "__main__":
    if len(sys.argv) > 2:
        Origin.hold = str(int(sys.argv[2]))
    Server(("127.0.0.1", int(sys.argv[1])), Origin).serve_forever()
