#!/usr/bin/env python3
"""CPU seconds used by a copy, per kind of process, sampled from /proc every 0.2 s.

Usage: cpu-sample.py STOPFILE OUTFILE SOURCE_DB TARGET_DB
Runs until STOPFILE exists, then writes "group seconds" lines to OUTFILE: the bench JVM
(ferry-jvm), pgcopydb and the PostgreSQL tools it starts, the backends of the two databases
(pg-source, pg-target; also the parallel workers and autovacuum working for them are not told
apart from other databases' and are left out), and the wall time sampled. A process that exits
between two samples loses at most 0.2 s of its count.
"""
import os
import re
import sys
import time

stop, out, source_db, target_db = sys.argv[1:5]
hz = os.sysconf("SC_CLK_TCK")
seen = {}
threads = {}  # the JVM's threads: (tid, start) -> (name, ticks)


def group(pid, cmd):
    if "SinglePhaseCopyBench" in cmd or "SnapshotRestoreBench" in cmd:
        return "ferry-jvm"
    tool = cmd.split(" ", 1)[0].rsplit("/", 1)[-1]
    if tool in ("pgcopydb", "pg_dump", "pg_restore", "psql"):
        # Only the bench's own: its database named on the command line or in the environment
        # (other sessions' tools on a shared machine are not this copy's).
        if ours(pid, cmd):
            return "tool-" + tool
        return None
    m = re.match(r"postgres: \S+: \S+ (\S+) ", cmd)
    if m and m.group(1) == source_db:
        return "pg-source"
    if m and m.group(1) == target_db:
        return "pg-target"
    return None


def ours(pid, cmd):
    if source_db in cmd or target_db in cmd:
        return True
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = f.read().decode(errors="replace")
    except OSError:
        return False
    return source_db in env or target_db in env


t0 = time.time()
while not os.path.exists(stop):
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
            g = group(pid, cmd)
            if g is None:
                continue
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            # utime + stime, keyed by pid and start time (pids are reused)
            seen[(pid, fields[19])] = (g, int(fields[11]) + int(fields[12]))
            if g == "ferry-jvm":
                for tid in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{tid}/stat") as f:
                        name, rest = f.read().split("(", 1)[1].rsplit(")", 1)
                    t = rest.split()
                    threads[(tid, t[19])] = (re.sub(r"[0-9]+", "N", name), int(t[11]) + int(t[12]))
        except (OSError, IndexError, ValueError):
            pass
    time.sleep(0.2)
totals = {}
for g, ticks in seen.values():
    totals[g] = totals.get(g, 0.0) + ticks / hz
with open(out, "w") as f:
    for g in sorted(totals):
        f.write(f"{g} {totals[g]:.2f}\n")
    f.write(f"wall {time.time() - t0:.2f}\n")
if threads:
    by_name = {}
    for name, ticks in threads.values():
        by_name[name] = by_name.get(name, 0.0) + ticks / hz
    with open(out + ".jvm-threads", "w") as f:
        for name, secs in sorted(by_name.items(), key=lambda x: -x[1]):
            if secs >= 0.05:
                f.write(f"{secs:.2f} {name}\n")
