#!/usr/bin/env python3
"""CPU seconds of one PostgreSQL cluster's processes, by the statement each was running.

Usage: statement-cpu.py PORT STOPFILE
Samples pg_stat_activity (through one psql session, as the superuser in PGUSER with PGPASSWORD)
and /proc every 0.1 s until STOPFILE exists, then prints the CPU seconds each statement's
backends used, most first: "<backend type> <database> <statement's first 70 characters>", and
"PAR <statement>" for the parallel workers of a statement. Processes there at the first sample
count from it; processes started later count from their start.

What it cannot do: a sample is attributed to the statement the backend shows at that moment, so
on a saturated machine (the sampler itself waits for a core) the CPU of a statement's last
fraction of a second can land on the next one. Use it to see where a cluster's CPU goes, not for
sub-second figures. Example, beside a bench run:

  python3 bench/statement-cpu.py 5434 /tmp/stop & bench/snapshot-restore.sh ...; touch /tmp/stop
"""
import collections
import os
import subprocess
import sys
import time

port, stop = sys.argv[1], sys.argv[2]
psql = subprocess.Popen(
    ["psql", "-X", "-At", "-F", "\x1f", "-h", os.environ.get("PGHOST", "127.0.0.1"), "-p", port, "-d", "postgres"],
    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def query(sql):
    psql.stdin.write(sql + ";\n\\echo __end__\n")
    psql.stdin.flush()
    rows = []
    while True:
        line = psql.stdout.readline()
        if not line or line.rstrip("\n") == "__end__":
            return rows
        rows.append(line.rstrip("\n").split("\x1f"))


def ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


ACTIVITY = (
    "SELECT pid, coalesce(leader_pid, 0), backend_type, coalesce(datname, ''),"
    " coalesce(regexp_replace(left(query, 70), '\\s+', ' ', 'g'), '')"
    " FROM pg_stat_activity WHERE pid <> pg_backend_pid()")
last = {}
for row in query(ACTIVITY):
    if len(row) == 5:
        last[int(row[0])] = ticks(row[0]) or 0
cpu = collections.Counter()
while not os.path.exists(stop):
    rows = {int(r[0]): r for r in query(ACTIVITY) if len(r) == 5}
    for pid, (_, leader, kind, database, statement) in rows.items():
        now = ticks(pid)
        if now is None:
            continue
        used, last[pid] = now - last.get(pid, 0), now
        leader = int(leader)
        if leader and leader in rows:
            key = "PAR " + rows[leader][4]
        else:
            key = f"{kind[:16]} {database[:24]} {statement}"
        cpu[key] += used
    time.sleep(0.1)
hz = os.sysconf("SC_CLK_TCK")
for key, used in cpu.most_common(40):
    if used:
        print(f"{used / hz:7.2f} {key}")
