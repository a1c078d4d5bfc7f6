#!/usr/bin/env python3
"""CPU seconds used by a copy, per kind of process, sampled from /proc every 0.2 s.

Usage: cpu-sample.py STOPFILE OUTFILE SOURCE_DB TARGET_DB
Runs until STOPFILE exists, then writes "group seconds" lines to OUTFILE: the bench JVM
(ferry-jvm), pgcopydb and the PostgreSQL tools it starts, the backends of the two databases
(pg-source, pg-target), the rest of each of those two clusters (pg-source-cluster,
pg-target-cluster: parallel workers, autovacuum, WAL writer, checkpointer, other databases'
sessions; counted from the first sample, not over the process's life), the Temporal server
(temporal), every process of the machine (machine, from /proc/stat), and the wall time sampled.
A process that exits between two samples loses at most 0.2 s of its count.
"""
import os
import re
import sys
import time

stop, out, source_db, target_db = sys.argv[1:5]
hz = os.sysconf("SC_CLK_TCK")
seen = {}
first = {}  # (pid, start) -> ticks at the first sample: long-lived processes count from there
clusters = {}  # "postgres: 15/NAME:" prefix -> "pg-source" or "pg-target"
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
    m = re.match(r"(postgres: \S+:) \S+ (\S+) ", cmd)
    if m and m.group(2) in (source_db, target_db):
        side = "pg-source" if m.group(2) == source_db else "pg-target"
        clusters[m.group(1)] = side
        return side
    m = re.match(r"(postgres: \S+:) (\S+)", cmd)
    if m and m.group(1) in clusters:
        # By kind: "parallel" (workers), "autovacuum", "walwriter", "checkpointer", ...; a
        # session of another database (the bench's warm-up, a bookkeeping database) by its user.
        return clusters[m.group(1)] + "-cluster:" + m.group(2)
    if tool == "temporal" and "server" in cmd:
        return "temporal"
    return None


def machine_ticks():
    with open("/proc/stat") as f:
        cpu = f.readline().split()[1:]
    # user nice system idle iowait irq softirq steal: all but idle and iowait
    return sum(int(x) for i, x in enumerate(cpu[:8]) if i not in (3, 4))


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
machine0 = machine_ticks()
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
            ticks = int(fields[11]) + int(fields[12])
            key = (pid, fields[19])
            if "-cluster" in g or g == "temporal":
                first.setdefault(key, ticks)
            seen[key] = (g, ticks)
            if g == "ferry-jvm":
                for tid in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{tid}/stat") as f:
                        name, rest = f.read().split("(", 1)[1].rsplit(")", 1)
                    t = rest.split()
                    threads[(tid, t[19])] = (re.sub(r"[0-9]+", "N", name), int(t[11]) + int(t[12]))
        except (OSError, IndexError, ValueError):
            pass
    time.sleep(0.2)
machine = machine_ticks() - machine0
totals = {"machine": machine / hz}
for key, (g, ticks) in seen.items():
    totals[g] = totals.get(g, 0.0) + (ticks - first.get(key, 0)) / hz
with open(out, "w") as f:
    for g in sorted(totals):
        if totals[g] >= 0.005:
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
