#!/usr/bin/env python3
"""Where a cutover's write downtime went, from the run's Temporal history (temporal workflow show
--output json): from the freeze's activity on, each activity's time queued (scheduled to started)
and running (started to completed), and the workflow's own time between them. Ledger-event and
notification activities are left out: the run does not wait for them."""
import json
import sys
from datetime import datetime

NOT_WAITED = {"RecordRunEvent", "Send"}


def at(event):
    t = event["eventTime"]
    # 2026-12-04T19:45:01.123456789Z: keep microseconds.
    head, _, frac = t.rstrip("Z").partition(".")
    return datetime.fromisoformat(head + "." + (frac + "000000")[:6])


events = json.load(open(sys.argv[1]))["events"]
scheduled = {}
rows = []
for e in events:
    attrs = e.get("activityTaskScheduledEventAttributes")
    if attrs:
        scheduled[e["eventId"]] = (attrs["activityType"]["name"], at(e))
    attrs = e.get("activityTaskStartedEventAttributes")
    if attrs:
        name, when = scheduled[attrs["scheduledEventId"]]
        scheduled[attrs["scheduledEventId"]] = (name, when, at(e))
    attrs = e.get("activityTaskCompletedEventAttributes")
    if attrs:
        name, when, started = scheduled[attrs["scheduledEventId"]]
        rows.append((name, when, started, at(e)))

window = [r for r in rows if r[0] not in NOT_WAITED]
first = next((i for i, r in enumerate(window) if r[0] == "FreezeSource"), None)
if first is None:
    sys.exit(0)
last = next((i for i, r in enumerate(window) if r[0] in ("VerifyChangedSincePreverified", "VerifyDatabases") and i > first), None)
window = window[first:last + 1]
previous_end = None
for name, when, started, done in window:
    gap = (when - previous_end).total_seconds() if previous_end else 0.0
    print("breakdown.%s.workflow-before %.3f" % (name, gap))
    print("breakdown.%s.queued %.3f" % (name, (started - when).total_seconds()))
    print("breakdown.%s.running %.3f" % (name, (done - started).total_seconds()))
    previous_end = done
print("breakdown.freeze-scheduled-to-verify-done %.3f" % (window[-1][3] - window[0][1]).total_seconds())
