#!/usr/bin/python3
"""How many polls Pushpin holds, for bench/compare's load generator (GET /_parked).

Pushpin has no gauge of held requests (its Prometheus endpoint counts connections and
messages; its stats socket reports a channel's subscriber count up to a second late), so this
reads what its handler logs at the default level, in the order the handler did it:

  [handler] subscribe http://.../poll/<channel> channel=<channel>[ retry]
      logged right after the handler put the request in the channel's set of held requests:
      from then on a publish reaches it;
  [handler] publish channel=<channel> receivers=<n>
      a publish answered the n requests held on the channel, which leave the set.

held(prefix) = subscribes - receivers over the channels "<prefix>_<i>" of one load-generator
run. GET /_parked?prefix=P&published=N answers held(P), but only once it has read N publish
lines on P's channels; until then it answers 0. N is how many publishes the load generator has
had acknowledged: without it, a count read before the handler logged the last publish would
still include the requests that publish answered, and the next round would go out early.

What the count cannot see, and bench/compare arranges around:
  - a channel's first hold starts a subscription which, one second later, makes the handler
    retry every request held on the channel (each goes back through the origin and is logged
    again with " retry"); bench/compare therefore warms Pushpin's channels up first (the
    subscription then lingers for 60 s) and this count ignores " retry" lines;
  - a hold that ends by timeout or because the client left is not logged: bench/compare sets
    the origin's Grip-Timeout (and the load generator's wait for an answer) longer than any of
    its Pushpin runs, and the load generator takes the count before its run as the baseline.
GET /_retries?prefix=P answers how many retry lines P's channels had (a check on the above).

usage: pushpin_parked.py PORT LOGFILE
"""
import collections
import http.server
import re
import sys
import threading
import urllib.parse

LINE = re.compile(r"\[handler\] (?:subscribe \S+ channel=(\S+)( retry)?"
                  r"|publish channel=(\S+) receivers=(\d+))")


class Log:
    """The handler's log read so far, as counts per channel prefix."""

    def __init__(self, path):
        self.file = open(path, "rb")
        self.partial = b""
        self.lock = threading.Lock()
        self.subscribes = collections.Counter()
        self.retries = collections.Counter()
        self.receivers = collections.Counter()
        self.publishes = collections.Counter()

    def catch_up(self):
        """Reads what was appended since the last call (whole lines only)."""
        data = self.partial + self.file.read()
        cut = data.rfind(b"\n") + 1
        self.partial = data[cut:]
        for raw in data[:cut].split(b"\n"):
            if b"[handler] " not in raw:
                continue
            m = LINE.search(raw.decode("utf-8", "replace"))
            if not m:
                continue
            if m.group(1) is not None:
                prefix = m.group(1).rpartition("_")[0]
                if m.group(2):
                    self.retries[prefix] += 1
                else:
                    self.subscribes[prefix] += 1
            else:
                prefix = m.group(3).rpartition("_")[0]
                self.publishes[prefix] += 1
                self.receivers[prefix] += int(m.group(4))

    def held(self, prefix, published):
        with self.lock:
            self.catch_up()
            if self.publishes[prefix] < published:
                return 0
            return max(self.subscribes[prefix] - self.receivers[prefix], 0)

    def retried(self, prefix):
        with self.lock:
            self.catch_up()
            return self.retries[prefix]


class Probe(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    log = None

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)
        prefix = q.get("prefix", [""])[0]
        if url.path == "/_parked":
            value = self.log.held(prefix, int(q.get("published", ["0"])[0]))
        elif url.path == "/_retries":
            value = self.log.retried(prefix)
        else:
            self.send_error(404)
            return
        body = str(value).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


if __name__ == "__main__":
    Probe.log = Log(sys.argv[2])
    Server(("127.0.0.1", int(sys.argv[1])), Probe).serve_forever()
