#!/usr/bin/env python3
"""bench/box_realtime_clients.py: one client process of bench/box_realtime_fanout.

For users FIRST..FIRST+COUNT-1 (token `bench-tok-<i>`), it does what an SDK does before it
parks: OPTIONS /2.0/events (the realtime URL) and GET /2.0/events?stream_position=now (the
position), then opens one realtime poll per user on its own connection. It prints `parked` once
every poll is sent, then waits for every answer and records, per poll, CLOCK_MONOTONIC when the
answer's last byte arrived and its message. At the end it prints one JSON line:
{"received": [[user, t_ns, message], ...], "errors": [...]}.
Bounded: each answer is awaited at most --max-seconds.
"""
import argparse
import asyncio
import json
import sys
import time


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


async def request(reader, writer, method, target, token=None):
    head = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if token:
        head += f"Authorization: Bearer {token}\r\n"
    writer.write((head + "\r\n").encode())
    await writer.drain()
    return await read_response(reader)


async def prepare(port, user, sem):
    """OPTIONS and the head position for one user, on a short-lived connection."""
    async with sem:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        token = f"bench-tok-{user}"
        status, body = await request(reader, writer, "OPTIONS", "/2.0/events", token)
        if status != 200:
            raise RuntimeError(f"OPTIONS for user {user}: {status} {body[:200]!r}")
        url = json.loads(body)["entries"][0]["url"]
        status, body = await request(reader, writer, "GET", "/2.0/events?stream_position=now", token)
        if status != 200:
            raise RuntimeError(f"GET /2.0/events for user {user}: {status} {body[:200]!r}")
        position = json.loads(body)["next_stream_position"]
        writer.close()
        target = url[url.index("/2.0/"):] + f"&stream_position={position}"
        return target


async def poll(port, target):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\r\n"
    writer.write(head.encode())
    await writer.drain()
    return reader, writer


async def answer(user, reader, writer, results, errors, max_seconds):
    try:
        status, body = await asyncio.wait_for(read_response(reader), max_seconds)
        t = time.monotonic_ns()
        results.append([user, t, json.loads(body)["message"], status])
    except Exception as e:  # noqa: BLE001 (reported, counted as a failure)
        errors.append(f"user {user}: {e!r}")
    finally:
        writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--first", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--max-seconds", type=float, default=60)
    a = ap.parse_args()
    users = range(a.first, a.first + a.count)
    sem = asyncio.Semaphore(64)
    targets = await asyncio.gather(*(prepare(a.port, u, sem) for u in users))
    results, errors = [], []
    conns = []
    for u, target in zip(users, targets):
        conns.append((u, *await poll(a.port, target)))
    print("parked", flush=True)
    await asyncio.gather(*(answer(u, r, w, results, errors, a.max_seconds) for u, r, w in conns))
    print(json.dumps({"received": results, "errors": errors}), flush=True)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
