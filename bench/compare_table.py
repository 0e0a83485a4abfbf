#!/usr/bin/env python3
"""Prints bench/compare's markdown table from the load generator's JSON results.

usage: compare_table.py DIR QUICK FAN_SMALL FAN_BIG ROUNDS PUSHPIN_ROUNDS MANY IDLE
DIR holds <scenario>.<server>.json files (one JSON line each, possibly empty when a run failed).
Exit status 1 if eventfeed lost or duplicated a message, or a run of eventfeed failed.
"""
import json
import os
import sys

d, quick, fan_small, fan_big, rounds, pp_rounds, many, idle = sys.argv[1:9]
SERVERS = ["eventfeed", "nchan", "pushpin"]


def load(scenario, server):
    try:
        with open(os.path.join(d, f"{scenario}.{server}.json")) as f:
            line = f.read().strip()
        return json.loads(line) if line else None
    except (OSError, ValueError):
        return None


def num(x, fmt="{:,.0f}"):
    return "–" if x is None else fmt.format(x)


def ratio(a, b, fmt="{:.2f}"):
    if a is None or b is None or b == 0:
        return "–"
    return fmt.format(a / b)


def get(j, *path):
    for p in path:
        if not isinstance(j, dict) or p not in j:
            return None
        j = j[p]
    return j if j is None or j >= 0 else None


failures = []


def delivery_note(j, server):
    """'' when every message arrived once; else what went wrong (never hidden)."""
    if j is None:
        if server == "eventfeed":
            failures.append("a run produced no result")
        return "no result"
    lost, dup = j.get("lost", 0), j.get("duplicates", 0)
    notes = []
    if lost:
        notes.append(f"LOST {lost:,}")
    if dup:
        notes.append(f"DUPLICATED {dup:,}")
    if not j.get("all_parked", True):
        notes.append("not all parked")
    if j.get("refused"):
        notes.append(f"{j['refused']:,} refused polls")
    if server == "eventfeed" and (lost or dup or not j.get("ok", False)):
        failures.append(f"{j.get('mode')}: " + (", ".join(notes) or j.get("first_error", "")))
    return ", ".join(notes)


rows = []


def row(label, values, lower_is_better=False, fmt="{:,.0f}", rfmt="{:.2f}"):
    ef = values.get("eventfeed")
    cells = [num(values.get(s), fmt) for s in SERVERS]
    rows.append([label] + cells + [ratio(ef, values.get("nchan"), rfmt),
                                   ratio(ef, values.get("pushpin"), rfmt)])


def fanout(scenario, title):
    res = {s: load(scenario, s) for s in SERVERS}
    rows.append([f"**{title}**", "", "", "", "", ""])
    row("delivered messages/s", {s: get(res[s], "deliveries_per_s") for s in SERVERS})
    row("server CPU per delivery (µs)",
        {s: get(res[s], "server", "cpu_us_per_delivery") for s in SERVERS}, fmt="{:,.1f}")
    for q, name in (("p50_us", "p50"), ("p99_us", "p99"), ("max_us", "max")):
        row(f"latency {name} (ms)",
            {s: (get(res[s], "latency", q) or 0) / 1000 if get(res[s], "latency", q) is not None
             else None for s in SERVERS}, fmt="{:,.1f}")
    rows.append(["delivered exactly once"] +
                [("yes" if not delivery_note(res[s], s) else delivery_note(res[s], s))
                 if res[s] is not None or s == "eventfeed" else "–" for s in SERVERS] + ["", ""])


fanout("fanout-small", f"1. fan-out: {int(fan_small):,} waiters, one channel, "
       f"{rounds} messages (Pushpin {pp_rounds})")
fanout("fanout-big", f"1. fan-out: {int(fan_big):,} waiters, one channel, "
       f"{rounds} messages (Pushpin {pp_rounds})")
fanout("many", f"2. many channels: {int(many):,} waiters on {int(many):,} channels, one message each")

res = {s: load("idle", s) for s in SERVERS}
rows.append([f"**3. idle: {int(idle):,} parked polls**", "", "", "", "", ""])
row("server RSS per parked poll (bytes)",
    {s: get(res[s], "server", "rss_per_parked_poll_bytes") for s in SERVERS})
rows.append(["all parked"] + [("yes" if res[s] and res[s].get("all_parked") else
                               ("no" if res[s] else "–")) for s in SERVERS] + ["", ""])
if res["eventfeed"] is None or not res["eventfeed"].get("all_parked"):
    failures.append("idle: not every poll was parked")

res = {s: load("catchup", s) for s in ("eventfeed", "nchan", "nginx")}
rows.append(["**4. catch-up reads, 64 keep-alive connections**", "", "", "", "", ""])
ef_rps = get(res["eventfeed"], "acks_per_s")
row("requests/s", {"eventfeed": ef_rps, "nchan": get(res["nchan"], "acks_per_s")})
row("server CPU per request (µs)",
    {"eventfeed": get(res["eventfeed"], "server", "cpu_us_per_event"),
     "nchan": get(res["nchan"], "server", "cpu_us_per_event")}, fmt="{:,.1f}")
nginx_rps = get(res["nginx"], "acks_per_s")
rows.append([f"nginx `return 200` of the same body: {num(nginx_rps)} requests/s",
             num(ef_rps), "", "n/a (catch-up lives in its origin)",
             f"eventfeed/nginx {ratio(ef_rps, nginx_rps)}", ""])
for s in ("eventfeed", "nchan", "nginx"):
    j = res[s]
    if j is not None and get(j, "errors", "total"):
        rows.append([f"{s}: errors", str(j["errors"]["total"]), "", "", "", ""])
        if s == "eventfeed":
            failures.append("catch-up: errors")

res = {s: load("publish", s) for s in SERVERS}
rows.append(["**5. publish, 64 connections, one message per request**", "", "", "", "", ""])
row("acknowledged publishes/s", {s: get(res[s], "acks_per_s") for s in SERVERS})
row("server CPU per publish (µs)",
    {s: get(res[s], "server", "cpu_us_per_event") for s in SERVERS}, fmt="{:,.1f}")
for s in SERVERS:
    j = res[s]
    if j is not None and get(j, "errors", "total"):
        rows.append([f"{s}: publish errors", str(j["errors"]["total"]), "", "", "", ""])
        if s == "eventfeed":
            failures.append("publish: errors")

print()
print(f"bench/compare ({'quick' if quick == '1' else 'full'} run): eventfeed on SQLite "
      "(durability normal) vs Nchan 1.3.6 and Pushpin 1.36 on loopback; ratios are "
      "eventfeed / peer")
print()
print("| measure | eventfeed | Nchan | Pushpin | eventfeed/Nchan | eventfeed/Pushpin |")
print("|---|---|---|---|---|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")
print()
if failures:
    print("eventfeed did not pass every check: " + "; ".join(failures))
    sys.exit(1)
print("eventfeed: every message of every scenario delivered exactly once.")
