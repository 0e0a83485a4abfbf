#!/usr/bin/env python3
"""Prints bench/compare's markdown table from the load generator's JSON results.

usage: compare_table.py DIR QUICK FAN_SMALL FAN_BIG ROUNDS PUSHPIN_ROUNDS MANY IDLE BODY SECONDS
DIR holds <scenario>.<server>.json files (one JSON line each, empty when a run failed) and, for
Pushpin, <scenario>.pushpin.retries. BODY is the catch-up answer's size in bytes, SECONDS the
run's wall time. Exit status 1 if eventfeed lost or duplicated a message, or a run of eventfeed
failed its checks; the peers' failures are shown in the table, never hidden, but do not fail.
"""
import json
import os
import sys

d, quick, fan_small, fan_big, rounds, pp_rounds, many, idle, body, seconds = sys.argv[1:11]
SERVERS = ["eventfeed", "nchan", "pushpin"]


def load(scenario, server):
    try:
        with open(os.path.join(d, f"{scenario}.{server}.json")) as f:
            line = f.read().strip()
        return json.loads(line) if line else None
    except (OSError, ValueError):
        return None


def extra(scenario, server, what):
    try:
        with open(os.path.join(d, f"{scenario}.{server}.{what}")) as f:
            return int(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def num(x, fmt="{:,.0f}"):
    return "–" if x is None else fmt.format(x)


def ratio(a, b, fmt="{:.2f}"):
    if a is None or b is None or b == 0:
        return "–"
    return fmt.format(a / b)


def get(j, *path):
    """The number at `path` of `j`, or None (absent, or negative: the loadgen's 'unknown')."""
    for p in path:
        if not isinstance(j, dict) or p not in j:
            return None
        j = j[p]
    return j if isinstance(j, (int, float)) and j >= 0 else None


failures = []
rows = []


def section(title):
    rows.append([f"**{title}**", "", "", "", "", ""])


def row(label, values, fmt="{:,.0f}"):
    ef = values.get("eventfeed")
    rows.append([label] + [num(values.get(s), fmt) for s in SERVERS] +
                [ratio(ef, values.get("nchan")), ratio(ef, values.get("pushpin"))])


def fanout_check(j, scenario, server):
    """'yes' when every subscriber got every message once; else what went wrong."""
    if j is None:
        if server == "eventfeed":
            failures.append(f"{scenario}: no result")
        return "no result"
    # (JSON count, how the note reads): failures first, then what is shown but passes.
    failing = (("lost", "LOST {:,}"), ("duplicates", "DUPLICATED {:,}"),
               ("unexpected", "{:,} unexpected"), ("publish_errors", "{:,} publish errors"))
    shown = (("refused", "{:,} polls refused"), ("errors", "{:,} poll errors"),
             ("empty_polls", "{:,} holds timed out"))
    notes = [text.format(j[key]) for key, text in failing if j.get(key)]
    if not j.get("all_parked", False):
        notes.append("not all parked")
    if j.get("rounds", 0) != j.get("messages", 0):
        notes.append(f"{j.get('rounds', 0)}/{j.get('messages', 0)} rounds published")
    bad = bool(notes) or not j.get("ok", False)
    if bad and not notes:
        notes.append("FAILED: " + (j.get("first_error") or "see the raw JSON"))
    notes += [text.format(j[key]) for key, text in shown if j.get(key)]
    retried = extra(scenario, server, "retries")
    if retried:
        notes.append(f"{retried:,} holds retried by Pushpin")
    if server == "eventfeed" and bad:
        failures.append(f"{scenario}: " + ", ".join(notes))
    return ("yes" if not bad else "NO") + (": " + ", ".join(notes) if notes else "")


def fanout(scenario, title):
    res = {s: load(scenario, s) for s in SERVERS}
    section(title)
    row("delivered messages/s", {s: get(res[s], "deliveries_per_s") for s in SERVERS})
    row("server CPU per delivery (µs)",
        {s: get(res[s], "server", "cpu_us_per_delivery") for s in SERVERS}, fmt="{:,.1f}")
    for q, name in (("p50_us", "p50"), ("p99_us", "p99"), ("max_us", "max")):
        row(f"latency {name} (ms)",
            {s: None if not get(res[s], "latency", "count") else get(res[s], "latency", q) / 1000
             for s in SERVERS}, fmt="{:,.1f}")
    rows.append(["every message delivered exactly once"] +
                [fanout_check(res[s], scenario, s) for s in SERVERS] + ["", ""])


def request_errors(j, server, scenario):
    """The error note of a publish or catch-up run ('' when none)."""
    if j is None:
        if server == "eventfeed":
            failures.append(f"{scenario}: no result")
        return "no result"
    total = get(j, "errors", "total") or 0
    if not total and j.get("ok", False):
        return ""
    if server == "eventfeed":
        failures.append(f"{scenario}: {total:,} errors ({j.get('first_error', '')})")
    by_status = j.get("errors", {}).get("by_status", {})
    parts = [f"{n:,}× {code}" for code, n in by_status.items()]
    for k in ("transport", "malformed", "out_of_order"):
        if get(j, "errors", k):
            parts.append(f"{j['errors'][k]:,} {k.replace('_', ' ')}")
    return f"ERRORS {total:,}" + (f" ({', '.join(parts)})" if parts else "")


fanout("fanout-small", f"1. fan-out: {int(fan_small):,} waiters on one channel, "
       f"{rounds} messages (Pushpin {pp_rounds})")
fanout("fanout-big", f"1. fan-out: {int(fan_big):,} waiters on one channel, "
       f"{rounds} messages (Pushpin {pp_rounds})")
fanout("many", f"2. many channels: {int(many):,} waiters on {int(many):,} channels, "
       "one message each")

res = {s: load("idle", s) for s in SERVERS}
section(f"3. idle: {int(idle):,} parked polls on 1,000 channels")
row("server RSS per parked poll (bytes)",
    {s: get(res[s], "server", "rss_per_parked_poll_bytes") for s in SERVERS})
row("server RSS with the polls parked (MiB)",
    {s: None if get(res[s], "server", "rss_parked_kib") is None
     else get(res[s], "server", "rss_parked_kib") / 1024 for s in SERVERS}, fmt="{:,.1f}")


def parked_note(j):
    if j is None:
        return "no result"
    if j.get("all_parked"):
        return "yes"
    return (f"NO: {j.get('parked', 0):,} held after {j.get('elapsed_s', 0):.0f} s"
            " (RSS per poll held)")


rows.append(["all parked"] + [parked_note(res[s]) for s in SERVERS] + ["", ""])
if res["eventfeed"] is None or not res["eventfeed"].get("all_parked"):
    failures.append("idle: not every poll was parked")

res = {s: load("catchup", s) for s in ("eventfeed", "nchan", "nginx")}
section(f"4. catch-up: reads answered from the buffer, 64 keep-alive connections")
pushpin_na = "n/a: catch-up lives in Pushpin's origin"
ef_rps, nchan_rps, nginx_rps = (get(res[s], "acks_per_s") for s in ("eventfeed", "nchan", "nginx"))
rows.append(["requests/s", num(ef_rps), num(nchan_rps), pushpin_na, ratio(ef_rps, nchan_rps), "–"])
ef_cpu, nchan_cpu = (get(res[s], "server", "cpu_us_per_event") for s in ("eventfeed", "nchan"))
rows.append(["server CPU per request (µs)", num(ef_cpu, "{:,.1f}"), num(nchan_cpu, "{:,.1f}"),
             "–", ratio(ef_cpu, nchan_cpu), "–"])
rows.append([f"HTTP ceiling: nginx `return 200` of eventfeed's {int(body):,}-byte answer, "
             "requests/s (ratio: eventfeed/nginx)", "", num(nginx_rps), "", ratio(ef_rps, nginx_rps),
             ""])
notes = [request_errors(res[s], s, "catch-up") for s in ("eventfeed", "nchan", "nginx")]
if any(notes):
    rows.append(["errors (eventfeed, Nchan, nginx)"] + [n or "none" for n in notes] + ["", ""])

res = {s: load("publish", s) for s in SERVERS}
section("5. publish: 64 connections, one message per request, closed loop")
row("acknowledged publishes/s", {s: get(res[s], "acks_per_s") for s in SERVERS})
row("server CPU per publish (µs)",
    {s: get(res[s], "server", "cpu_us_per_event") for s in SERVERS}, fmt="{:,.1f}")
row("acknowledgement latency p99 (ms)",
    {s: None if not get(res[s], "latency", "count") else get(res[s], "latency", "p99_us") / 1000
     for s in SERVERS}, fmt="{:,.2f}")
notes = [request_errors(res[s], s, "publish") for s in SERVERS]
if any(notes):
    rows.append(["errors"] + [n or "none" for n in notes] + ["", ""])

print()
print(f"bench/compare, {'quick' if quick == '1' else 'full'} run ({int(seconds) // 60} min "
      f"{int(seconds) % 60} s): eventfeed on SQLite (durability normal) vs Nchan 1.3.6 "
      "(nginx 1.22, 2 workers) and Pushpin 1.36 on loopback, one load generator for all. "
      "Ratios are eventfeed / peer: above 1 is better for eventfeed in messages/s and requests/s, "
      "below 1 is better in CPU, latency and RSS.")
print()
print("| measure | eventfeed | Nchan | Pushpin | eventfeed/Nchan | eventfeed/Pushpin |")
print("|---|---:|---:|---:|---:|---:|")
for r in rows:
    print("| " + " | ".join(r) + " |")
print()
if not os.path.exists(os.path.join(d, "idle.eventfeed.json")):
    print("eventfeed was not run (ONLY).")
    sys.exit(0)
if failures:
    print("eventfeed did not pass every check: " + "; ".join(failures))
    sys.exit(1)
print("eventfeed: every message of every scenario delivered exactly once, every answer checked.")
