#!/usr/bin/env python3
"""bench/zulip_clients.py: one client process of bench/zulip_fanout.

Registers COUNT Zulip queues for users FIRST.. (round robin over --users users, `u<i>@bench`,
API key from bench_key(i)), alternating the two kinds of queue that follow the realm's public
stream: a narrow on the channel `Denmark`, and `all_public_streams`. Then, on one connection per
queue, it parks a long poll of each (last_event_id=-1), prints `parked`, and waits for every
answer, recording CLOCK_MONOTONIC when each answer has arrived whole. At the end it deletes its
queues and prints one JSON line: {"received": [[queue_index, t_ns, event_types], ...],
"errors": [...]}. Bounded: each answer is awaited at most --max-seconds.

With --register-only it registers the queues, leaves them idle, and prints
{"registered": COUNT}: the bench measures the server's memory per idle queue that way.

With --native KEY it parks COUNT plain polls of the native API on the public stream instead
(GET /v1/streams/{bench}public/events?after=now, Bearer KEY): the same fan-out without queues,
narrows or acknowledgements, for the side-by-side.
"""
import argparse
import asyncio
import base64
import json
import sys
import time
import urllib.parse


def bench_key(i):
    """User i's API key: 32 letters and digits, as Zulip's are."""
    return f"benchkey{i:024d}"


def basic(i):
    return "Basic " + base64.b64encode(f"u{i}@bench:{bench_key(i)}".encode()).decode()


async def read_response(reader):
    """(status, body) of one HTTP/1.1 answer with a Content-Length."""
    status_line = await reader.readline()
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode().partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    return int(status_line.split()[1]), await reader.readexactly(length)


def send(writer, method, target, auth, body=b""):
    head = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\n"
    if body:
        head += ("Content-Type: application/x-www-form-urlencoded\r\n"
                 f"Content-Length: {len(body)}\r\n")
    writer.write(head.encode() + b"\r\n" + body)


async def register(port, index, user, sem):
    """Registers queue `index` for `user` on a short-lived connection; its id."""
    if index % 2 == 0:
        form = {"event_types": '["message"]', "narrow": '[["channel","Denmark"]]'}
    else:
        form = {"event_types": '["message"]', "all_public_streams": "true"}
    async with sem:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        send(writer, "POST", "/api/v1/register", basic(user),
             urllib.parse.urlencode(form).encode())
        status, body = await read_response(reader)
        writer.close()
    if status != 200:
        raise RuntimeError(f"register for user {user}: {status} {body[:200]!r}")
    return json.loads(body)["queue_id"]


async def answer(index, reader, results, errors, max_seconds):
    try:
        status, body = await asyncio.wait_for(read_response(reader), max_seconds)
        t = time.monotonic_ns()
        if status != 200:
            raise RuntimeError(f"status {status}: {body[:200]!r}")
        results.append([index, t, [e["type"] for e in json.loads(body)["events"]]])
    except Exception as e:  # noqa: BLE001 (reported, counted as a failure)
        errors.append(f"queue {index}: {e!r}")


async def native_polls(port, indexes, key, max_seconds):
    conns = []
    for i in indexes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        send(writer, "GET", "/v1/streams/%7Bbench%7Dpublic/events?after=now&timeout=300",
             f"Bearer {key}")
        await writer.drain()
        conns.append((i, reader, writer))
    print("parked", flush=True)
    results, errors = [], []
    await asyncio.gather(*(answer(i, r, results, errors, max_seconds) for i, r, _ in conns))
    for _, _, writer in conns:
        writer.close()
    print(json.dumps({"received": results, "errors": errors}), flush=True)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--first", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--users", type=int, required=True)
    ap.add_argument("--max-seconds", type=float, default=60)
    ap.add_argument("--register-only", action="store_true")
    ap.add_argument("--native", metavar="KEY")
    a = ap.parse_args()
    indexes = range(a.first, a.first + a.count)
    if a.native:
        await native_polls(a.port, indexes, a.native, a.max_seconds)
        return 0
    sem = asyncio.Semaphore(64)
    queues = await asyncio.gather(*(register(a.port, i, i % a.users, sem) for i in indexes))
    if a.register_only:
        print(json.dumps({"registered": len(queues)}), flush=True)
        return 0
    conns = []
    for i, q in zip(indexes, queues):
        reader, writer = await asyncio.open_connection("127.0.0.1", a.port)
        send(writer, "GET", f"/api/v1/events?queue_id={q}&last_event_id=-1", basic(i % a.users))
        await writer.drain()
        conns.append((i, reader, writer))
    print("parked", flush=True)
    results, errors = [], []
    await asyncio.gather(*(answer(i, r, results, errors, a.max_seconds) for i, r, _ in conns))
    # Deleted on the same connections, so the next round starts from a clean registry.
    for (i, reader, writer), q in zip(conns, queues):
        send(writer, "DELETE", f"/api/v1/events?queue_id={q}", basic(i % a.users))
    for i, reader, writer in conns:
        try:
            status, body = await asyncio.wait_for(read_response(reader), a.max_seconds)
            if status != 200:
                errors.append(f"delete of queue {i}: {status} {body[:200]!r}")
        except Exception as e:  # noqa: BLE001
            errors.append(f"delete of queue {i}: {e!r}")
        writer.close()
    print(json.dumps({"received": results, "errors": errors}), flush=True)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
