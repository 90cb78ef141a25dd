#!/usr/bin/env python3
"""Allocation sites per operation from a ChurnProfile recording (benchmarks/profile-churn):
    python3 benchmarks/churn-alloc.py CASE.jfr BYTES_PER_OP [TOP]
Reads the jdk.ObjectAllocationSample events of the benchmark thread (`main`; JFR's own allocation left out), groups
their weights by (class allocated, the hip-ffm frame nearest the allocation; JFR's own class-file work at the start of the
recording is left out), and scales the shares to BYTES_PER_OP
(ChurnProfile's exact per-thread figure): the estimated bytes each site allocates per operation."""
import collections
import json
import subprocess
import sys

jfr, per_op = sys.argv[1], float(sys.argv[2])
top = int(sys.argv[3]) if len(sys.argv) > 3 else 12
data = json.loads(subprocess.run(["jfr", "print", "--json", "--events", "jdk.ObjectAllocationSample", jfr],
                                 capture_output=True, text=True, check=True).stdout)
sites = collections.Counter()
total = 0
for e in data["recording"]["events"]:
    v = e["values"]
    if (v.get("eventThread") or {}).get("javaName") != "main":
        continue
    frames = (v.get("stackTrace") or {}).get("frames") or []
    names = [f["method"]["type"]["name"].replace("/", ".") + "." + f["method"]["name"] + ":" + str(f.get("lineNumber"))
             for f in frames]
    if any(n.startswith(("jdk.jfr.", "jdk.internal.classfile.", "java.lang.classfile.")) for n in names):
        continue                        # JFR instrumenting its event classes as the recording starts
    ours = next((n for n in names if n.startswith("io.github.hipffm.") and ".bench." not in n), None)
    caller = next((n for n in names if not n.startswith(("jdk.internal.", "java.lang.invoke."))), names[0] if names else "?")
    cls = v["objectClass"]["name"].replace("/", ".")
    w = v["weight"]
    sites[(cls, ours or caller)] += w
    total += w
print(f"{'B/op':>7}  {'share':>6}  class allocated  <-  nearest hip-ffm frame")
for (cls, site), w in sites.most_common(top):
    print(f"{per_op * w / total:7.0f}  {100 * w / total:5.1f}%  {cls}  <-  {site}")
