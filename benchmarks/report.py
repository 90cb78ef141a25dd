#!/usr/bin/env python3
"""Turns a benchmark run's output folder (.bundle/bench/run OUTDIR, fetched from the GPU machine) into
docs/performance.md: every figure with Java, C, the ratio Java/C, the hardware peak where one applies, and the
issue's targets marked met / not met; plus a PNG plot of copy bandwidth against size (when matplotlib imports).

    python3 benchmarks/report.py OUTDIR [--out docs/performance.md] [--machine "NVIDIA H100 (device tool)"]
                                        [--above-limit-note "why a random-data device copy beats HBM"]

Device-copy figures are checked against the GPU's physical limit (HBM peak / 2 of bytes copied: a copy reads and
writes every byte; HBM_BY_GPU). A figure above it is never shown as a plain value: uniform-data rows (compressible,
they measure the GPU's memory compression) are marked and explained in a note; a random-data figure above it makes
this script exit 3 without writing the report, unless --above-limit-note explains it (then it is marked with that
note). An unknown GPU gets no limit, and the report says so.

Reads OUTDIR/jmh.json (or jmh.json.gz, as kept in docs/runs; else OUTDIR/jmh/*.json), bench.csv (C,... and J,... lines,
and ChurnCompare's K,... lines: churn with C and Java alternating in one process, which judge the confined churn rows
where a run has them), machine.txt, info.txt, and, for the reasons of what did not run, jmh.txt, c.err and paired.err.
Standard library only (matplotlib is optional)."""
import argparse
import datetime
import glob
import gzip
import json
import math
import os
import re
import statistics
import sys

PCIE_GBPS = 64.0            # PCIe Gen5 x16, each way (32 GT/s x 16 lanes, 128b/130b: ~63 GB/s)
HBM_GBPS = None             # the GPU's HBM peak in GB/s; main() sets it from machine.txt's gpu: line (HBM_BY_GPU)
HBM_NAME = None             # its memory, e.g. "HBM3e"
GPU_MODEL = None            # its model as HBM_BY_GPU names it
# (regexp on nvidia-smi's name, model, HBM peak in GB/s, memory). A device copy's physical limit is peak / 2 of bytes
# copied. Not H100 PCIe (HBM2e 2.0 TB/s) or NVL, not GH200: those are unknown here (no limit applied).
HBM_BY_GPU = ((r"(?<![A-Za-z])H200(?![A-Za-z0-9])", "H200", 4800.0, "HBM3e"),
              (r"(?<![A-Za-z])H100(?![A-Za-z0-9])(?!.*\b(PCIe|NVL)\b)", "H100 SXM", 3350.0, "HBM3"))
PER_CALL_RATIO, PER_CALL_NS = 1.10, 20.0
FRAME_RATIO = 1.05
GRAPH_FRAME_RATIO = 1.00
# A create on an explicit device against the same create on the current device (ChurnCompare's paired rounds).
DEVICE_SCOPED_NS = 20.0
IPC_FRAME_RATIO, FD_RATIO = 1.10, 1.10   # cross-process frame / in-process frame; fd round trip / C
DEVICE_SCOPED_ROWS = (("stream create + destroy", "streamCreateDestroy", ""),
                      ("event create + destroy (timing)", "eventCreateDestroy", "true"),
                      ("event create + destroy (no timing)", "eventCreateDestroy", "false"))
COPY_FRACTION, COPY_FROM = 0.97, 1 << 20
IMPORT_RATIO, CHURN_RATIO = 1.05, 1.10   # import + map + release; stream and event create + destroy
# Why the confined churn rows are judged on ChurnCompare's paired ratio: how far apart the same C twin binary
# (churn.c) measured event create + destroy from one run to the next on the H200 of the device tool.
C_RUN_TO_RUN = "244 to 497 ns (337 to 712 ns with timing)"
# ChurnCompare's variants (K lines) beside the owner arenas they pair with, and their labels.
PAIRED_VARIANTS = (("C", None, "C (`libchurnloop.so`, in the JVM)"),
                   ("confined.perOp", ("confined", "perOp"), "confined, arena per op"),
                   ("confined.longLived", ("confined", "longLived"), "confined, long-lived + close()"),
                   ("raw", None, "Java raw (generated binding)"),
                   ("device.longLived", None, "confined, long-lived, device named"))
# The owner arenas of the churn benchmarks (OwnerArena's parameters), with their labels in the report.
OWNER_VARIANTS = (("confined", "perOp", "confined, arena per op"),
                  ("confined", "longLived", "confined, long-lived + close()"),
                  ("shared", "perOp", "shared, arena per op"),
                  ("shared", "longLived", "shared, long-lived + close()"))
ZERO_BYTES = 1.0            # B/op below this is JMH noise (~1e-4 for allocation-free code; up to ~0.7 with short runs)
PKG = "io.github.hipffm.bench."
MiB = 1 << 20
SIZES = [4096, 65536, 1 << 20, 16 << 20, 256 << 20, 1 << 30]
D2D_SIZES = [1 << 20, 16 << 20, 256 << 20]


def size_name(n):
    n = int(n)
    for unit, v in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= v and n % v == 0:
            return f"{n // v} {unit}"
    return f"{n} B"


def fmt(v, digits=3):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.1f}"
    return f"{v:.{digits}g}" if abs(v) < 1 else f"{v:.2f}"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def mark(ok):
    return "—" if ok is None else ("**met**" if ok else "**not met**")


def limits_text():
    return "; ".join(f"{model} {mem} {gbps / 1000:g} TB/s, so ≈ {gbps / 2000:.3f} TB/s of bytes copied"
                     for _, model, gbps, mem in HBM_BY_GPU)


def d2d_limit():
    """The physical limit of a device copy on this run's GPU in GB/s of bytes copied, or None (unknown GPU)."""
    return None if HBM_GBPS is None else HBM_GBPS / 2


# Mapped → device rows: (label, kind, JMH method, JMH params beyond bytes, raw method or None, C figure, C peak
# figure). kind: "random" (incompressible, the headline, judged against the target), "uniform" (one value, an extra
# that measures compression; no target), "legacy" (a run from before issue 18: one value, and a cudaMemcpy that
# returns before a device copy has finished; judged as it was then, marked).
MAPPED_ROWS = (
    ("mapped → device, random data", "random", "CopyBench.deviceToDeviceMapped", {"data": "random"},
     "CopyBench.deviceToDeviceMappedRaw", "memcpy.d2dMapped.random", "memcpyAsync.d2dMapped.random"),
    ("mapped → device, uniform data (extra)", "uniform", "CopyBench.deviceToDeviceMapped", {"data": "uniform"},
     None, "memcpy.d2dMapped.uniform", "memcpyAsync.d2dMapped.uniform"),
)
LEGACY_MAPPED_ROW = ("mapped → device, uniform data (run before issue 18)", "legacy", "CopyBench.deviceToDeviceMapped",
                     {}, "CopyBench.deviceToDeviceMappedRaw", "memcpy.d2dMapped", "memcpyAsync.d2dMapped")


class Run:
    def __init__(self, out):
        self.out = out
        self.jmh = {}           # (method, params tuple) -> entry
        self.c = {}             # (figure, param) -> (value, unit)
        self.j = {}             # FrameLatency lines
        self.failures = {}      # (method, params tuple) -> reason
        self.c_errors = []
        self.k = {}             # (figure, param, variant) -> ChurnCompare's paired figures
        self.rounds = {}        # (figure, param, variant) -> {alternation: ns/op} (ChurnCompare's R lines)
        self.frames = {}        # (figure, "C"|"J") -> FrameCompare's paired frame figures (P lines)
        self.paired_error = None
        self.paired_settings = None
        self.load()

    def path(self, name):
        return os.path.join(self.out, name)

    def load(self):
        # A kept run's jmh.json may be gzipped (docs/runs: the repository travels to the GPU machine, 64 MiB in all).
        files = [p for p in (self.path("jmh.json"), self.path("jmh.json.gz")) if os.path.exists(p)][:1]
        entries = []
        for f in files or sorted(glob.glob(self.path("jmh/*.json"))):
            try:
                with (gzip.open(f, "rt") if f.endswith(".gz") else open(f)) as fh:
                    entries += json.load(fh)
            except (ValueError, OSError) as e:
                print(f"report: cannot read {f}: {e}", file=sys.stderr)
        if not entries and files:                      # a merged file that came out empty: try the parts
            for f in sorted(glob.glob(self.path("jmh/*.json"))):
                try:
                    with open(f) as fh:
                        entries += json.load(fh)
                except (ValueError, OSError):
                    pass
        for e in entries:
            method = e["benchmark"].replace(PKG, "")
            params = tuple(sorted((e.get("params") or {}).items()))
            self.jmh[(method, params)] = e
        if os.path.exists(self.path("bench.csv")):
            for line in open(self.path("bench.csv")):
                parts = line.strip().split(",")
                if len(parts) == 9 and parts[0] == "K":
                    # K,figure,param,variant,median ns/op,paired ratio median,min,max,rounds (ChurnCompare)
                    try:
                        ns, med, lo, hi, rounds = (float(x) for x in parts[4:9])
                    except ValueError:
                        continue
                    self.k[tuple(parts[1:4])] = {"ns": ns, "ratio": med, "min": lo, "max": hi, "rounds": int(rounds)}
                    continue
                if len(parts) == 8 and parts[0] == "P":
                    # P,figure,C|J,median of round medians (us),J/C paired ratio median,min,max,rounds (FrameCompare)
                    try:
                        us, med, lo, hi, rounds = (float(x) for x in parts[3:8])
                    except ValueError:
                        continue
                    self.frames[(parts[1], parts[2])] = {"us": us, "ratio": med, "min": lo, "max": hi,
                                                         "rounds": int(rounds)}
                    continue
                if len(parts) == 8 and parts[0] == "R":
                    # R,figure,param,variant,alternation,ns/op,ops,CPU ns/op (ChurnCompare, every measured round)
                    try:
                        self.rounds.setdefault(tuple(parts[1:4]), {})[int(parts[4])] = float(parts[5])
                    except ValueError:
                        pass
                    continue
                if len(parts) != 5 or parts[0] not in ("C", "J"):
                    continue
                side, figure, param, value, unit = parts
                try:
                    v = float(value)
                except ValueError:
                    continue
                (self.c if side == "C" else self.j)[(figure, param)] = (v, unit)
        if os.path.exists(self.path("jmh.txt")):
            bench, params, failed = None, (), False
            for line in open(self.path("jmh.txt"), errors="replace"):
                m = re.match(r"# Benchmark: (\S+)", line)
                if m:
                    bench, params, failed = m.group(1).replace(PKG, ""), (), False
                    continue
                m = re.match(r"# Parameters: \((.*)\)", line)
                if m:
                    params = tuple(sorted(tuple(x.strip() for x in kv.split("=", 1))
                                          for kv in m.group(1).split(",") if "=" in kv))
                    continue
                if "<failure>" in line:
                    failed = True
                    continue
                m = re.match(r"([\w.$]+(?:Exception|Error)): (.*)", line.strip())
                if failed and m and bench and (bench, params) not in self.failures:
                    self.failures[(bench, params)] = m.group(2)[:200]
        if os.path.exists(self.path("paired.err")):
            for line in open(self.path("paired.err"), errors="replace"):
                line = line.strip()
                if line.startswith("churn-compare: FAILED") and self.paired_error is None:
                    self.paired_error = line[len("churn-compare: FAILED: "):][:300]
                elif line.startswith("churn-compare: libchurnloop ") and self.paired_settings is None:
                    self.paired_settings = line[len("churn-compare: "):]
                elif (line.startswith(("Exception", "Error")) or "Exception: " in line) and self.paired_error is None:
                    self.paired_error = line[:300]
        if os.path.exists(self.path("c.err")):
            self.c_errors = [l.strip() for l in open(self.path("c.err"), errors="replace")
                             if l.startswith(("C-ERROR", "C-SKIP", "C-FAIL", "JMH-SKIP"))]

    def overlay(self, other):
        """Takes `other`'s figures over this run's where it has them: JMH results by benchmark and parameters,
        C, J and K lines by key, and their failure reasons; a partial run (e.g. the churn groups only) on top of a
        full one. Returns the JMH classes, C figures and paired figures (ChurnCompare's, and the P lines' figures)
        taken, for the report's header."""
        self.jmh.update(other.jmh)
        self.c.update(other.c)
        self.j.update(other.j)
        self.k.update(other.k)
        self.rounds.update(other.rounds)
        self.frames.update(other.frames)
        self.failures.update(other.failures)
        self.c_errors += other.c_errors
        classes = sorted({m.split(".")[0] for m, _ in other.jmh})
        figures = sorted({f for f, _ in other.c})
        paired = (["ChurnCompare"] if other.k else []) + sorted({f for f, _ in other.frames})
        return classes, figures, paired

    def entry(self, method, **params):
        key = (method, tuple(sorted((k, str(v)) for k, v in params.items())))
        return self.jmh.get(key)

    def ns(self, method, **params):
        """Time per op in ns (AverageTime): the median of the measured iterations (as the C twins report the
        median of their rounds), or JMH's score where there is no raw data; None without a result."""
        e = self.entry(method, **params)
        if not e:
            return None
        pm = e["primaryMetric"]
        raw = [v for fork in (pm.get("rawData") or []) for v in fork]
        return to_ns(statistics.median(raw) if raw else pm["score"], pm["scoreUnit"])

    def error_ns(self, method, **params):
        e = self.entry(method, **params)
        if not e:
            return None
        err = e["primaryMetric"].get("scoreError")
        return None if err in (None, "NaN") or (isinstance(err, float) and math.isnan(err)) else \
            to_ns(err, e["primaryMetric"]["scoreUnit"])

    def bytes_per_op(self, method, **params):
        e = self.entry(method, **params)
        if not e:
            return None
        m = (e.get("secondaryMetrics") or {}).get("gc.alloc.rate.norm")
        return None if not m else m["score"]

    def percentile_us(self, method, p):
        e = self.entry(method)
        if not e:
            return None
        pct = e["primaryMetric"].get("scorePercentiles") or {}
        v = pct.get(f"{p:.1f}") if f"{p:.1f}" in pct else pct.get(str(p))
        return None if v is None else to_ns(v, e["primaryMetric"]["scoreUnit"]) / 1e3

    def cval(self, figure, param=""):
        v = self.c.get((figure, str(param)))
        return None if v is None else v[0]

    def jval(self, figure, param):
        v = self.j.get((figure, param))
        return None if v is None else v[0]

    def paired(self, figure, param, variant):
        """ChurnCompare's figures for one variant of one churn operation (ns, ratio, min, max, rounds), or None."""
        return self.k.get((figure, str(param), variant))

    def why_missing(self, method, **params):
        key = (method, tuple(sorted((k, str(v)) for k, v in params.items())))
        return self.failures.get(key)


def churn_rows():
    """(label, JMH method, JMH params beyond the owner arena, C figure, C param, raw method, raw params, ratio)."""
    rows = [(f"import + map + release {size_name(n)}", "ImportBench.importMapRelease", {"bytes": n},
             "importMapRelease", n, None, {}, IMPORT_RATIO) for n in (1 << 20, 256 << 20)]
    rows.append(("stream create + destroy", "ChurnBench.streamCreateDestroy", {}, "streamCreateDestroy", "",
                 "ChurnBench.streamCreateDestroyRaw", {}, CHURN_RATIO))
    for timing, what in (("true", "timing"), ("false", "no timing")):
        rows.append((f"event create + destroy ({what})", "ChurnBench.eventCreateDestroy", {"timing": timing},
                     "eventCreateDestroy", timing, "ChurnBench.eventCreateDestroyRaw", {"timing": timing},
                     CHURN_RATIO))
    return rows


def churn_figure(r, method, params, arena, lifetime):
    """(ns per op, B/op) of one owner-arena variant; a run from before the variants (ImportBench with only
    `bytes`: a confined arena per op) counts as the confined, per-op one."""
    ns = r.ns(method, **params, arena=arena, lifetime=lifetime)
    if ns is not None:
        return ns, r.bytes_per_op(method, **params, arena=arena, lifetime=lifetime)
    if (arena, lifetime) == ("confined", "perOp") and r.entry(method, **params):
        return r.ns(method, **params), r.bytes_per_op(method, **params)
    return None, None


def to_ns(v, unit):
    scale = {"ns/op": 1, "us/op": 1e3, "µs/op": 1e3, "ms/op": 1e6, "s/op": 1e9}.get(unit)
    if scale is None:
        raise ValueError(f"unexpected JMH unit {unit}")
    return v * scale


def read_kv(path):
    d = {}
    if os.path.exists(path):
        for line in open(path, errors="replace"):
            if ":" in line:
                k, v = line.split(":", 1)
                d.setdefault(k.strip(), v.strip())
    return d


def bop(v):
    if v is None:
        return "—"
    return "0" if v < ZERO_BYTES else f"{v:.0f}"


def frame_met(r, figure, c, j, limit):
    """A frame median's target: on FrameCompare's paired ratio (two decimals) where the run has it, else on the
    separately run twins' medians; None without data."""
    pj = r.frames.get((figure, "J"))
    if pj is not None:
        return round(pj["ratio"], 2) <= limit
    return None if j is None or c is None else j <= c * limit


def jmh_wall_us(r, method, p):
    """JMH SampleTime's figure of `method` for percentile `p` ("p50", ...) or "mean", in µs, or None."""
    if p != "mean":
        return r.percentile_us(method, float(p[1:]))
    e = r.ns(method)
    return None if e is None else e / 1e3


def frame_paired_table(L, r, figures, limit):
    """FrameCompare's paired rows for `figures` (C and hip-ffm on the same resources in one process)."""
    if not any(r.frames.get((f, "J")) for f in figures):
        L.append("No paired figures in this run (`FrameCompare`'s P lines): the target is judged on the separately "
                 "run twins above.")
        L.append("")
        return
    L.append("Paired in one process (`FrameCompare`: C's frame loop in `libframeloop.so` and hip-ffm's on the same "
             "semaphore, buffer, stream and events, alternating rounds of frames; each round's median frame). The "
             "target is judged on the median of the paired ratios (Java's round over C's of the same alternation), "
             "shown to two decimals.")
    L.append("")
    L.append("| figure | C (µs) | variant | variant (µs) | variant/C paired: median | min–max | rounds | target |")
    L.append("| --- | ---: | --- | ---: | ---: | ---: | ---: | --- |")
    for f in figures:
        pc = r.frames.get((f, "C"))
        for lang, label in (("J", "hip-ffm"), ("R", "generated binding alone")):
            pv = r.frames.get((f, lang))
            if pc is None or pv is None:
                if lang == "J":
                    L.append(f"| {f} median | — | {label} | — | — | — | — | no paired figures |")
                continue
            tgt = mark(frame_met(r, f, None, None, limit)) if lang == "J" else "no target (the downcalls' floor)"
            L.append(f"| {f} median | {fmt(pc['us'])} | {label} | {fmt(pv['us'])} | {pv['ratio']:.3f} | "
                     f"{pv['min']:.3f}–{pv['max']:.3f} | {pv['rounds']} | {tgt} |")
    L.append("")


def ipc_why(r, twin, cls):
    """Why a between-processes row has no figure: the twin's C-FAIL line, else the first error of the Java main
    `cls` in ipc.err (scripts/bench prefixes each main's stderr with its name)."""
    for line in r.c_errors:
        if line.startswith(f"C-FAIL,{twin},"):
            skip = next((l for l in r.c_errors if l.startswith("C-SKIP")), "")
            return f"C twin {twin}: {line.split(',', 2)[2]}" + (f" ({skip})" if skip else "")
    path = r.path("ipc.err")
    if os.path.exists(path):
        for line in open(path, errors="replace"):
            if line.startswith(f"{cls}: ") and ("Exception" in line or "Error" in line or ": exit " in line):
                return f"{cls}: {line[len(cls) + 2:].strip()[:200]}"
    return "not in this run (runs from before issue 16's part 5 have no such figures)"


def between_processes(L, r, targets, missing):
    """Issue 16 part 5: the cross-process frame against the in-process one, the fd channel's round trip and VMM
    allocate + export + import + release against their C twins."""
    L.append("## Between processes")
    L.append("")
    L.append("Cross-process frame (`IpcFrame`): a Vulkan producer signals its timeline semaphore from the host, a "
             "hip-ffm consumer waits on its stream, runs the kernel on the shared 1 MiB buffer and signals, and the "
             "producer's host wait sees it (wall clock, producer side). The same consumer code runs in a thread of "
             "the producer's JVM (in-process) and in a child JVM (cross-process), each with its own buffer and "
             "semaphore sent over an `FdChannel`; alternating rounds, each round's median frame, the ratio of the "
             f"two rounds of an alternation. Target: cross-process ≤ {IPC_FRAME_RATIO:.2f}× in-process (median of "
             "the paired ratios, two decimals), 0 B/op on the frame path (producer and both consumers).")
    L.append("")
    L.append("| figure | in-process (µs) | cross-process (µs) | cross/in paired: median | min–max | rounds | target |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    pi, px = r.frames.get(("ipcframe.wall", "I")), r.frames.get(("ipcframe.wall", "X"))
    if pi is None or px is None:
        why = ipc_why(r, "-", "IpcFrame")
        L.append(f"| frame median | — | — | — | — | — | {why} |")
        missing.append(f"cross-process frame: {why}")
    else:
        met = round(px["ratio"], 2) <= IPC_FRAME_RATIO
        targets.append(("cross-process frame", met))
        L.append(f"| frame median | {fmt(pi['us'])} | {fmt(px['us'])} | {px['ratio']:.3f} | "
                 f"{px['min']:.3f}–{px['max']:.3f} | {px['rounds']} | {mark(met)} |")
    allocs = [(who, r.jval("ipcframe.alloc", who)) for who in ("producer", "consumer.I", "consumer.X")]
    if any(v is not None for _, v in allocs):
        met = all(v is not None and not math.isnan(v) and v < ZERO_BYTES for _, v in allocs)
        targets.append(("cross-process frame 0 B/op", met))
        L.append("")
        L.append("Bytes allocated per frame by each side's thread over the measured frames: " + ", ".join(
            f"{who} {bop(v) if v is not None and not math.isnan(v) else '—'}" for who, v in allocs)
                 + f" ({mark(met)}).")
    L.append("")
    L.append("The fd channel's round trip (`FdRoundTrip`): `FdChannel.send` of one fd (a 1 MiB memfd) with its "
             "48-byte record, `receive` on the other end, the message's `close` (the received fd closed); both ends "
             "in one thread. C twin `fdroundtrip.c`: the same record and fd over a `SOCK_SEQPACKET` socketpair, "
             "`sendmsg` + `recvmsg` + `close`. Separate processes, the twins' schedule; where the run has them, "
             "also *paired* rounds in one JVM and one thread (`FdRoundTrip --lib libfdloop.so`: the twin's own loop, "
             "`native/inproc/fdloop.c`, alternating with hip-ffm's, the first variant rotating), and then the median "
             "of the per-alternation ratios is the figure judged, as for churn and frames. No GPU needed. Target: "
             f"≤ {FD_RATIO:.2f}× C. VMM allocate + export + import + release (`VmmRoundTrip`, `vmm.c`): "
             "`VirtualMemory.allocate` + `exportFd` + `importFd` (same process) + release against the driver "
             "calls; no target in the issue beyond being measured against C.")
    L.append("")
    L.append("| operation | C | hip-ffm | hip-ffm/C | hip-ffm B/op | target |")
    L.append("| --- | ---: | ---: | ---: | ---: | --- |")
    rows = [("fd round trip (send + receive + close)", "fdroundtrip", "48", "µs", 1e-3, FD_RATIO, "fdroundtrip",
             "FdRoundTrip")]
    sizes = sorted({int(p) for (f, p) in list(r.c) + list(r.j) if f == "vmm" and p.isdigit()}) or [2 * MiB, 64 * MiB]
    rows += [(f"VMM allocate + export + import + release {size_name(n)}", "vmm", str(n), "µs", 1.0, None, "vmm",
              "VmmRoundTrip") for n in sizes]
    for label, fig, param, unit, scale, limit, twin, cls in rows:
        c, j = r.cval(fig, param), r.jval(fig, param)
        b = r.jval(fig + ".alloc", param)
        if c is None or j is None:
            why = ipc_why(r, twin, cls)
            L.append(f"| {label} | {fmt(c * scale) + ' ' + unit if c is not None else '—'} | "
                     f"{fmt(j * scale) + ' ' + unit if j is not None else '—'} | — | {bop(b)} | {why} |")
            missing.append(f"{label}: {why}")
            continue
        ratio_ = j / c
        paired = r.frames.get((fig, "J")) if fig == "fdroundtrip" else None
        pc = r.frames.get((fig, "C")) if paired else None
        if limit is None:
            tgt = "no target"
        elif paired and pc:
            met = round(paired["ratio"], 2) <= limit
            targets.append((label, met))
            tgt = (f"{mark(met)} (paired {paired['ratio']:.3f}, {paired['min']:.3f}–{paired['max']:.3f} over "
                   f"{paired['rounds']} alternations: C {fmt(pc['us'])} µs, hip-ffm {fmt(paired['us'])} µs)")
        else:
            met = round(ratio_, 2) <= limit
            targets.append((label, met))
            tgt = mark(met)
        L.append(f"| {label} | {fmt(c * scale)} {unit} | {fmt(j * scale)} {unit} | {ratio_:.2f} | {bop(b)} | {tgt} |")
    L.append("")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--out", default=None, help="the Markdown file (default: docs/performance.md in the repo)")
    ap.add_argument("--machine", default=None, help="how to name the machine (default: from machine.txt)")
    ap.add_argument("--overlay", default=None,
                    help="a partial run whose figures replace OUTDIR's where it has them (same kind of machine); "
                         "the header says which rows come from which run")
    ap.add_argument("--above-limit-note", default=None,
                    help="publish random-data device-copy figures above the GPU's physical limit, marked, with "
                         "this explanation (without it such a figure is an error: exit 3, no report)")
    a = ap.parse_args()
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_md = a.out or os.path.join(repo, "docs", "performance.md")
    png = os.path.splitext(out_md)[0] + "-bandwidth.png"
    r = Run(a.outdir)
    overlaid = r.overlay(Run(a.overlay)) if a.overlay else None
    machine = read_kv(os.path.join(a.outdir, "machine.txt"))
    info = read_kv(os.path.join(a.outdir, "info.txt"))
    global HBM_GBPS, HBM_NAME, GPU_MODEL
    gpu_name = machine.get("gpu", "").split(",")[0].strip()
    for pattern, model, gbps, name in HBM_BY_GPU:
        if re.search(pattern, gpu_name):
            HBM_GBPS, HBM_NAME, GPU_MODEL = gbps, name, model
            break
    targets = []            # (what, met or None)
    missing = []            # lines

    L = []
    L.append("# Performance: hip-ffm against C")
    L.append("")
    L.append("Generated by `benchmarks/report.py` from one run of `.bundle/bench/run` (see `benchmarks/README.md`); "
             "do not edit by hand. Java figures are JMH, `FrameLatency` and `AllocationCheck` (bytes per operation); C figures are the "
             "C twins in `benchmarks/native/`, which make the same CUDA runtime calls with the same schedule "
             "(2 warm-up rounds of 0.3 s, 5 measured rounds of 0.4 s; the median of the rounds reported, on both sides). "
             "Ratios are Java/C: time for calls (lower is better), bandwidth for copies (higher is better)."
             + (" The churn section also has `ChurnCompare`'s figures: C and Java alternating in one process." if r.k
                else ""))
    L.append("")
    L.append("## Machine")
    L.append("")
    L.append("| | |")
    L.append("| --- | --- |")
    if a.machine:
        L.append(f"| machine | {a.machine} |")
    L.append(f"| GPU, driver, memory, PCIe max gen and width | {machine.get('gpu', '?')} |")
    L.append(f"| max SM and memory clocks, persistence mode | {machine.get('clocks', '?')} |")
    L.append(f"| CUDA (driver) | {machine.get('cuda', '?') or '?'} |")
    L.append(f"| runtime loaded by hip-ffm | {info.get('library', '?')}, {info.get('runtime version', '?')} |")
    L.append(f"| CPU | {machine.get('cpu', '?')} |")
    L.append(f"| OS kernel | {machine.get('kernel', '?')} |")
    L.append(f"| Java | {machine.get('java', '?')} (the bundle's jlinked runtime) |")
    if machine.get("gpus"):
        L.append(f"| GPUs (`nvidia-smi -L`) | {machine['gpus']} |")
    L.append(f"| run date (UTC) | {machine.get('date', '?')} |")
    if overlaid:
        om = read_kv(os.path.join(a.overlay, "machine.txt"))
        L.append(f"| second run (UTC), same kind of machine | {om.get('date', '?')}: {om.get('gpu', '?')}; its figures "
                 f"replace the first run's for JMH {', '.join(overlaid[0]) or 'none'}, C twins' "
                 f"{', '.join(overlaid[1]) or 'none'}, paired figures {', '.join(overlaid[2]) or 'none'}; each ratio compares "
                 "figures of one run |")
    L.append(f"| report date | {datetime.date.today().isoformat()} |")
    L.append("")

    # ---- per call -----------------------------------------------------------------------------------
    L.append("## Per-call overhead")
    L.append("")
    L.append(f"Target: within {PER_CALL_RATIO:.2f}x of C or {PER_CALL_NS:.0f} ns of it. *Raw* is the generated "
             "binding (one FFM downcall); *idiomatic* is the library's own call for the same thing.")
    L.append("")
    L.append("| call | C (ns) | Java raw (ns) | raw/C | Java idiomatic (ns) | idiomatic/C | idiomatic call "
             "| B/op raw, idiomatic | target (raw; idiomatic) |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |")
    per_call = [
        ("`cudaGetErrorName`", "errorName", "PerCallBench.errorNameRaw", "PerCallBench.errorNameIdiomatic",
         "`Backend.errorName` (HIP names: a Java lookup on NVIDIA)"),
        ("`cudaGetErrorString`", "errorString", "PerCallBench.errorStringRaw",
         "PerCallBench.errorDescriptionIdiomatic", "`HipError.description()` (a Java `String`)"),
        ("`cudaGetDevice`", "getDevice", "PerCallBench.getDeviceRaw", "PerCallBench.getDeviceIdiomatic",
         "`Backend.getDevice()` (no public API)"),
        ("`cudaGetDeviceCount`", "getDeviceCount", "PerCallBench.deviceCountRaw",
         "PerCallBench.deviceCountIdiomatic", "`Hip.deviceCount()`"),
    ]

    def per_call_met(j, c):
        if j is None or c is None:
            return None
        return j <= c * PER_CALL_RATIO or j - c <= PER_CALL_NS

    for title, cfig, raw, idi, idi_desc in per_call:
        c, jr, ji = r.cval(cfig), r.ns(raw), r.ns(idi)
        mr, mi = per_call_met(jr, c), per_call_met(ji, c)
        targets.append((f"per call {title} raw", mr))
        targets.append((f"per call {title} idiomatic", mi))
        L.append(f"| {title} | {fmt(c)} | {fmt(jr)} | {fmt(ratio(jr, c))} | {fmt(ji)} | {fmt(ratio(ji, c))} | "
                 f"{idi_desc} | {bop(r.bytes_per_op(raw))}, {bop(r.bytes_per_op(idi))} | {mark(mr)}; {mark(mi)} |")
        for m in (raw, idi):
            if r.ns(m) is None:
                missing.append(f"`{m}`: {r.why_missing(m) or 'no result'}")
    L.append("")

    # ---- semaphores ---------------------------------------------------------------------------------
    L.append("## Timeline semaphore signal + wait")
    L.append("")
    L.append("One operation = `signal(v)` then `wait(v)` queued on one stream, on Vulkan-exported timeline "
             "semaphores (1, or 8 in one batch call each). Target: the per-call one.")
    L.append("")
    L.append("| semaphores per call | C (ns) | Java raw (ns) | raw/C | Java idiomatic (ns) | idiomatic/C "
             "| B/op raw, idiomatic | target (raw; idiomatic) |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for n, raw, idi in ((1, "SemaphoreBench.signalWaitRaw", "SemaphoreBench.signalWait"),
                        (8, "SemaphoreBench.signalWaitBatch8Raw", "SemaphoreBench.signalWaitBatch8")):
        c, jr, ji = r.cval("signalWait", n), r.ns(raw), r.ns(idi)
        mr, mi = per_call_met(jr, c), per_call_met(ji, c)
        targets.append((f"signal+wait x{n} raw", mr))
        targets.append((f"signal+wait x{n} idiomatic", mi))
        L.append(f"| {n} | {fmt(c)} | {fmt(jr)} | {fmt(ratio(jr, c))} | {fmt(ji)} | {fmt(ratio(ji, c))} | "
                 f"{bop(r.bytes_per_op(raw))}, {bop(r.bytes_per_op(idi))} | {mark(mr)}; {mark(mi)} |")
        for m in (raw, idi):
            if r.ns(m) is None:
                missing.append(f"`{m}`: {r.why_missing(m) or 'no result'}")
    L.append("")

    # ---- frame --------------------------------------------------------------------------------------
    L.append("## Frame latency")
    L.append("")
    L.append("A frame: wait on the timeline semaphore, launch `increment` on a mapped Vulkan-exported 1 MiB buffer "
             "(262,144 threads), signal, wait for completion; 20,000 frames after 20,000 warm-up (enough for the JIT to have compiled the frame path; the C twin gets the same). *GPU events*: "
             "from an event recorded before the wait to one after the signal (includes the time the GPU waits "
             "for the host to queue the frame). *Wall*: enqueue to completion on the host clock. JMH: "
             f"`FrameBench.frame` in SampleTime mode (wall). Target: median within {FRAME_RATIO:.2f}x of C.")
    L.append("")
    L.append("| figure | C (µs) | Java (µs) | Java/C | JMH SampleTime (µs) | target |")
    L.append("| --- | ---: | ---: | ---: | ---: | --- |")
    for fig, label in (("frame.event", "GPU events"), ("frame.wall", "wall")):
        for p in ("p50", "p90", "p99", "p99.9", "mean"):
            c, j = r.cval(fig, p), r.jval(fig, p)
            jmh = jmh_wall_us(r, "FrameBench.frame", p) if fig == "frame.wall" else None
            met = None
            if p == "p50":
                met = frame_met(r, fig, c, j, FRAME_RATIO)
                targets.append((f"frame median ({label})", met))
            L.append(f"| {label} {'median' if p == 'p50' else p} | {fmt(c)} | {fmt(j)} | {fmt(ratio(j, c))} | "
                     f"{fmt(jmh)} | {mark(met) if p == 'p50' else ''} |")
    if r.jval("frame.event", "p50") is None:
        missing.append("`FrameLatency`: no result (see java.err)")
    if r.ns("FrameBench.frame") is None:
        missing.append(f"`FrameBench.frame`: {r.why_missing('FrameBench.frame') or 'no result'}")
    L.append("")
    frame_paired_table(L, r, ("frame.event", "frame.wall"), FRAME_RATIO)
    L.append(f"`FrameBench.frame`: {bop(r.bytes_per_op('FrameBench.frame'))} B per frame by JMH's `-prof gc` (all threads); "
             "the frame's own allocation (calling thread only) is in *Allocation on hot paths*.")
    L.append("")

    # ---- graph frame --------------------------------------------------------------------------------
    L.append("## Graph frame")
    L.append("")
    L.append("The same frame recorded once as a graph (wait node → kernel node → signal node) and instantiated once; per "
             "frame the exec's two fence values are set (`GraphExec.setFence`; C: "
             "`cudaGraphExec{Wait,Signal}...NodeSetParams`) and the exec is launched, then waited for. Same timing as "
             "above (`FrameLatency graph`, `frame.c ... graph`; JMH `FrameBench.graphFrame`). Target: Java median "
             f"within {GRAPH_FRAME_RATIO:.2f}x of the C graph twin (GPU events and wall); the saving over the "
             "three-call frame is shown for both languages.")
    L.append("")
    L.append("| figure | C graph (µs) | Java graph (µs) | Java/C | JMH SampleTime (µs) | C graph / C calls | "
             "Java graph / Java calls | target |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for fig, label in (("event", "GPU events"), ("wall", "wall")):
        for p in ("p50", "p90", "p99", "p99.9", "mean"):
            c, j = r.cval("graphframe." + fig, p), r.jval("graphframe." + fig, p)
            c3, j3 = r.cval("frame." + fig, p), r.jval("frame." + fig, p)
            jmh = jmh_wall_us(r, "FrameBench.graphFrame", p) if fig == "wall" else None
            met = None
            if p == "p50":
                met = frame_met(r, "graphframe." + fig, c, j, GRAPH_FRAME_RATIO)
                targets.append((f"graph frame median ({label})", met))
            L.append(f"| {label} {'median' if p == 'p50' else p} | {fmt(c)} | {fmt(j)} | {fmt(ratio(j, c))} | "
                     f"{fmt(jmh)} | {fmt(ratio(c, c3))} | {fmt(ratio(j, j3))} | {mark(met) if p == 'p50' else ''} |")
    if r.jval("graphframe.event", "p50") is None:
        missing.append("`FrameLatency graph`: no result (see java.err)")
    if r.cval("graphframe.event", "p50") is None:
        missing.append("`frame ... graph` (C): no result (see c.err)")
    if r.ns("FrameBench.graphFrame") is None:
        missing.append(f"`FrameBench.graphFrame`: {r.why_missing('FrameBench.graphFrame') or 'no result'}")
    L.append("")
    frame_paired_table(L, r, ("graphframe.event", "graphframe.wall"), GRAPH_FRAME_RATIO)
    L.append(f"`FrameBench.graphFrame`: {bop(r.bytes_per_op('FrameBench.graphFrame'))} B per frame by JMH's `-prof gc` "
             "(all threads); the calling thread's own allocation for two fence updates + launch + synchronize is in "
             "*Allocation on hot paths* (`graph frame`).")
    L.append("")

    # ---- churn: import + map + release, stream and event create + destroy ----------------------------
    paired_any = bool(r.k)
    L.append("## Churn: import, map, release; stream and event create + destroy")
    L.append("")
    L.append("What a program that keeps making and releasing resources pays per resource, in each owner arena a "
             "churning caller uses (`OwnerArena`): *arena per op*, `try (Arena a = Arena.ofConfined())` (or "
             "`ofShared()`) around each resource, whose close releases it; *long-lived + close()*, one arena for "
             "many resources (one per JMH iteration), each released by its own `close()`. Import: a Vulkan-exported "
             "allocation, `ExternalMemory.importCopy` (a `dup` of the fd) + `mapBuffer()` of all of it + release "
             "(free, destroy, close); C: `dup` + `cudaImportExternalMemory` + `cudaExternalMemoryGetMappedBuffer` + "
             "`cudaFree` + `cudaDestroyExternalMemory`. Stream: `Stream.create`; C: `cudaStreamCreateWithFlags(0)` "
             "(`cudaStreamCreate`) + `cudaStreamDestroy`. Event: `Event.create(arena, timing)`; C: "
             "`cudaEventCreateWithFlags` (`cudaEventDefault` or `cudaEventDisableTiming`) + `cudaEventDestroy`. "
             "*Java raw*: the same two CUDA calls through the generated binding. B/op: JMH's `-prof gc` (all threads). "
             f"Targets: import + map + release within {IMPORT_RATIO:.2f}x of C at 1 MiB and 256 MiB, stream and event "
             f"create + destroy within {CHURN_RATIO:.2f}x, for each owner arena.")
    L.append("")
    L.append("The C twins run in a process of their own, at another time than JMH's forks, and on the GPU machine "
             "that alone moves a sub-microsecond figure by more than the target: the same `churn` binary measured "
             f"event create + destroy anywhere from {C_RUN_TO_RUN} from one run to the next on the H200. So the "
             "confined rows are judged on the *paired* ratio where the run has one: `ChurnCompare` runs the C twin's "
             "loop (`native/inproc/churnloop.c`, as a library linked with the runtime hip-ffm loads) and the same "
             "Java benchmark bodies in one JVM, one thread, in alternating rounds (the first variant rotating), and "
             "each alternation gives a ratio Java round / C round taken a fraction of a second apart; the median of "
             "those ratios is the figure judged, and their min–max shows the spread. The separate-process columns "
             "(JMH against the twin) are kept beside it. The shared rows are JMH only.")
    L.append("")
    L.append("| operation | owner arena | C (µs) | Java (µs) | Java/C | Java − C (µs) | Java raw (µs) | raw/C | B/op "
             "| target |")
    L.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    misses = []
    paired_rows = []
    for label, method, params, cfig, cparam, raw, raw_params, limit in churn_rows():
        c = r.cval(cfig, cparam)
        if c is not None and cfig != "importMapRelease":
            c /= 1e3                                                # the churn twin reports ns
        jr = None if raw is None else r.ns(raw, **raw_params)
        jr = None if jr is None else jr / 1e3
        pc = r.paired(cfig, cparam, "C")
        for arena, lifetime, vlabel in OWNER_VARIANTS:
            jn, bop_v = churn_figure(r, method, params, arena, lifetime)
            j = None if jn is None else jn / 1e3
            rr = ratio(j, c)
            pv = r.paired(cfig, cparam, f"{arena}.{lifetime}") if pc else None
            met = None if rr is None else rr <= limit
            if pv is not None:
                met = pv["ratio"] <= limit                          # judged on the paired ratio
            what = f"{label} ({vlabel})"
            targets.append((what, met))
            diff = None if j is None or c is None else j - c
            if met is False and pv is not None:
                misses.append(f"{what}: paired in one process {fmt(pv['ns'] / 1e3)} µs against C's "
                              f"{fmt(pc['ns'] / 1e3)} µs, {pv['ratio']:.3f}x (median of {pv['rounds']} alternations, "
                              f"{pv['min']:.3f}–{pv['max']:.3f}; target {limit:.2f}x); separate processes "
                              f"{fmt(j)} µs against {fmt(c)} µs ({fmt(rr)}x)")
            elif met is False:
                misses.append(f"{what}: {fmt(j)} µs against C's {fmt(c)} µs: +{fmt(diff)} µs per operation "
                              f"({fmt(rr)}x, target {limit:.2f}x)")
            first = (arena, lifetime) == (OWNER_VARIANTS[0][0], OWNER_VARIANTS[0][1])
            judged = "" if met is None else (f" (paired {pv['ratio']:.3f})" if pv is not None
                                             else " (unpaired)" if paired_any and arena == "confined" else "")
            L.append(f"| {label if first else ''} | {vlabel} | {fmt(c) if first else ''} | {fmt(j)} | {fmt(rr)} | "
                     f"{'' if diff is None else f'{diff:+.2f}'} | {fmt(jr) if first and raw else ''} | "
                     f"{fmt(ratio(jr, c)) if first and raw else ''} | {bop(bop_v)} | {mark(met)}{judged} |")
            if jn is None:
                missing.append(f"`{method}`{params_label(tuple(sorted(params.items())))} ({vlabel}): "
                               f"{r.why_missing(method, **params, arena=arena, lifetime=lifetime) or 'no result'}")
        paired_rows.append((label, cfig, cparam, limit))
    L.append("")
    if misses:
        L.append("What the variants that miss their target cost beside C (a shared arena's close is a handshake with "
                 "every thread of the JVM, so the shared rows may miss; they are shown, not hidden):")
        L.append("")
        for m in misses:
            L.append(f"- {m}")
        L.append("")
    if paired_any:
        L.append("### Paired in one process (`ChurnCompare`)")
        L.append("")
        L.append("Time per operation: the median of each variant's rounds. *Java/C paired*: for each alternation the "
                 "variant's round over the C round of the same alternation; the median of those ratios, and their "
                 "min–max. The confined rows' target above is judged on this median."
                 + (f" Settings: {r.paired_settings}." if r.paired_settings else ""))
        L.append("")
        L.append("| operation | variant | time (µs) | Java/C paired: median | min–max | alternations | target |")
        L.append("| --- | --- | ---: | ---: | ---: | ---: | --- |")
        for label, cfig, cparam, limit in paired_rows:
            shown = False
            for variant, owner, vlabel in PAIRED_VARIANTS:
                pv = r.paired(cfig, cparam, variant)
                if pv is None:
                    continue
                if variant == "C":
                    med = spread = tgt = ""
                else:
                    med, spread = f"{pv['ratio']:.3f}", f"{pv['min']:.3f}–{pv['max']:.3f}"
                    tgt = mark(pv["ratio"] <= limit) if owner else "no target"
                L.append(f"| {'' if shown else label} | {vlabel} | {fmt(pv['ns'] / 1e3)} | {med} | {spread} | "
                         f"{pv['rounds']} | {tgt} |")
                shown = True
            if not shown:
                L.append(f"| {label} | — | — | — | — | — | no paired figures in this run |")
        L.append("")
    else:
        L.append("This run has no paired figures (`ChurnCompare`'s K lines in `bench.csv`): every row is judged on "
                 "JMH against the separately run C twin.")
        L.append("")
    if r.paired_error:
        missing.append(f"`ChurnCompare` (paired churn): {r.paired_error}")

    # ---- device-scoped calls --------------------------------------------------------------------------
    L.append("## Device-scoped calls")
    L.append("")
    L.append("A create on an explicit device (`Stream.create(device, owner)`, `Event.create(device, owner, timing)`) "
             "against the same create on the current device, the device named being the current one: "
             "`ChurnCompare`'s `device.longLived` and `confined.longLived` rounds of the same alternation (one "
             "thread, alternating), create + `close()` in a long-lived confined owner. *Extra*: the median over the "
             "alternations of the difference of the two rounds' time per operation. Target: within "
             f"{DEVICE_SCOPED_NS:g} ns.")
    L.append("")
    L.append("| operation | current device (µs) | device named (µs) | extra (ns): median | min–max | alternations | target |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    any_device = False
    for label, cfig, cparam in DEVICE_SCOPED_ROWS:
        cur = r.rounds.get((cfig, cparam, "confined.longLived"), {})
        dev = r.rounds.get((cfig, cparam, "device.longLived"), {})
        alts = sorted(set(cur) & set(dev))
        if not alts:
            L.append(f"| {label} | — | — | — | — | — | no paired figures in this run |")
            continue
        any_device = True
        diffs = sorted(dev[a] - cur[a] for a in alts)
        extra = statistics.median(diffs)
        met = extra <= DEVICE_SCOPED_NS
        targets.append((f"device-scoped {label}", met))
        L.append(f"| {label} | {fmt(statistics.median(cur[a] for a in alts) / 1e3)} | "
                 f"{fmt(statistics.median(dev[a] for a in alts) / 1e3)} | {extra:.1f} | {diffs[0]:.1f}–{diffs[-1]:.1f} | "
                 f"{len(alts)} | {mark(met)} |")
    if not any_device:
        missing.append("device-scoped calls: no `device.longLived` rounds in `ChurnCompare`'s output")
    L.append("")

    between_processes(L, r, targets, missing)

    # ---- copies -------------------------------------------------------------------------------------
    limit = d2d_limit()
    legacy = r.cval(LEGACY_MAPPED_ROW[5], D2D_SIZES[-1]) is not None or any(
        r.entry(LEGACY_MAPPED_ROW[2], bytes=n) for n in D2D_SIZES)
    current = any(r.cval(row[5], n) is not None or r.entry(row[2], bytes=n, **row[3])
                  for row in MAPPED_ROWS for n in D2D_SIZES)
    mapped_rows = ([LEGACY_MAPPED_ROW] if legacy else []) + (list(MAPPED_ROWS) if current or not legacy else [])
    L.append("## Copy bandwidth")
    L.append("")
    if legacy and not current:
        c_copy = ("C's `cudaMemcpy` with `cudaMemcpyDefault` (this run predates issue 18: for device → device "
                  "that call returns before the GPU has finished the copy)")
    else:
        c_copy = ("C's `cudaMemcpyAsync` (`cudaMemcpyDefault`) on the NULL stream followed by "
                  "`cudaStreamSynchronize(0)`, which is what `Memory.copy` does on NVIDIA: both sides finish each "
                  "copy before timing the next")
    L.append(f"`Memory.copy` (synchronous, direction from the pointers) against {c_copy}, in GB/s (10^9 bytes/s) "
             f"from the time per copy. *C async peak*: back-to-back `cudaMemcpyAsync` timed with events (as "
             f"`shared/probes/anchor.c`), the practical limit. Target: Java ≥ {COPY_FRACTION:.0%} of C at ≥ "
             f"{size_name(COPY_FROM)}.")
    L.append("")
    if GPU_MODEL:
        gpu_limit = (f"This run's GPU is an {GPU_MODEL}: {HBM_NAME} ≈ {HBM_GBPS / 1000:.2f} TB/s, so no device copy "
                     f"can exceed ≈ {limit:,.0f} GB/s; a figure above that is not shown as a copy rate (see the notes "
                     f"below the table).")
    else:
        gpu_limit = (f"This run's GPU ({gpu_name or 'not recorded'}) is not one of these: **no physical limit "
                     f"applied**, the device-copy figures below are not checked against one.")
    L.append(f"Physical limits: PCIe Gen5 x16 ≈ {PCIE_GBPS:.0f} GB/s each way. A device copy reads and writes every "
             f"byte, so its limit is half the HBM peak, in bytes copied: {limits_text()}. {gpu_limit}")
    L.append("")
    L.append("*Mapped → device* copies a Vulkan-exported buffer (imported and mapped) to a device allocation. Vulkan's "
             "exported memory is compressible: the headline rows copy random bytes (incompressible); the *uniform "
             "data* rows copy a buffer holding one value and measure the GPU's memory compression, not copying "
             "(on an H200, event-timed 256 MiB copies: Vulkan → Vulkan 3,678 GB/s uniform against 2,089 GB/s "
             "random; `cudaMalloc` → `cudaMalloc` ≈ 2,080 GB/s either way). They are an extra, without a target.")
    L.append("")
    L.append("*Java raw*: the generated binding's copy (the same CUDA calls as the C twin, no hip-ffm code) in the same "
             "JMH run, where measured: where Java and Java raw agree and both differ from C, the difference is the "
             "JVM's (the same downcalls), not hip-ffm's.")
    L.append("")
    L.append("| direction | size | C (GB/s) | Java (GB/s) | Java/C | Java raw (GB/s) | C async peak (GB/s) | "
             "Java % of peak | B/op | target |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    series = {}
    above = {"uniform": [], "legacy": [], "random": []}     # (row, size, column, GB/s) above the physical limit
    impossible = []                                          # random-data figures above it (an error without a note)

    def cell(v, kind, label, n, column):
        """A device-copy figure, or its mark when it is above the physical limit."""
        if v is None or limit is None or v <= limit:
            return fmt(v)
        above[kind].append((label, n, column, v))
        if kind == "random":
            if a.above_limit_note is None:
                impossible.append(f"{label} {size_name(n)}, {column}: {v:,.0f} GB/s")
            return f"above the limit † ({fmt(v)})"
        return f"above the limit ‡ ({fmt(v)})"

    rows = [("host → device", "host", "CopyBench.hostToDevice", {}, "CopyBench.hostToDeviceRaw", "memcpy.h2d",
             "memcpyAsync.h2d", SIZES, PCIE_GBPS),
            ("device → host", "host", "CopyBench.deviceToHost", {}, "CopyBench.deviceToHostRaw", "memcpy.d2h",
             "memcpyAsync.d2h", SIZES, PCIE_GBPS)]
    rows += [row + (D2D_SIZES, limit) for row in mapped_rows]
    for label, kind, method, extra, raw, cfig, peak_fig, sizes, peak in rows:
        for n in sizes:
            cus = r.cval(cfig, n)
            jns = r.ns(method, bytes=n, **extra)
            rns = None if raw is None else r.ns(raw, bytes=n, **extra)
            rg = None if rns is None else n / (rns * 1e-9) / 1e9
            cg = None if cus is None else n / (cus * 1e-6) / 1e9
            jg = None if jns is None else n / (jns * 1e-9) / 1e9
            pk = r.cval(peak_fig, n)
            rr = ratio(jg, cg)
            judged = n >= COPY_FROM and kind != "uniform"
            met = None
            if judged:
                met = None if rr is None else rr >= COPY_FRACTION
                targets.append((f"copy {label} {size_name(n)}", met))
            series.setdefault(label, []).append((n, jg, cg, pk))
            if kind == "host":
                cs, js, rs, ps = fmt(cg), fmt(jg), ("" if rg is None else fmt(rg)), fmt(pk)
            else:
                cs, js = cell(cg, kind, label, n, "C"), cell(jg, kind, label, n, "Java")
                rs = "" if rg is None else cell(rg, kind, label, n, "Java raw")
                ps = cell(pk, kind, label, n, "C async peak")
            if jg is None or peak is None:
                pct = "—"
            elif jg > peak and kind != "host":
                pct = f"above the limit {'†' if kind == 'random' else '‡'} ({100 * jg / peak:.0f}%)"
            else:
                pct = f"{100 * jg / peak:.0f}%"
            tgt = mark(met) if judged else ("extra, no target" if kind == "uniform" and n >= COPY_FROM else "")
            L.append(f"| {label} | {size_name(n)} | {cs} | {js} | {fmt(rr)} | {rs} | {ps} | {pct} | "
                     f"{bop(r.bytes_per_op(method, bytes=n, **extra))} | {tgt} |")
            if jns is None:
                missing.append(f"`{method}`{params_label(tuple(sorted(extra.items())))} ({size_name(n)}): "
                               f"{r.why_missing(method, bytes=n, **extra) or 'no result'}")
    L.append("")
    if legacy:
        L.append("*Run before issue 18*: its mapped → device rows copied a buffer filled with one value, and both "
                 "sides timed `cudaMemcpy`, which for device → device returns before the GPU has finished (measured "
                 "on an H200, 256 MiB: back after 6–16 µs, done after 71–141 µs). They are kept for the record, not "
                 "as copy rates; the Java/C ratio compares the same call on both sides.")
        L.append("")
    if above["uniform"] or above["legacy"]:
        L.append(f"‡ Above the {GPU_MODEL}'s physical limit for a device copy (≈ {limit:,.0f} GB/s of bytes copied: "
                 f"{HBM_NAME} ≈ {HBM_GBPS / 1000:.2f} TB/s, read and written once each), so not a copy rate: these "
                 "rows copy a buffer holding one value, which the GPU's memory compression moves without reading "
                 "and writing every byte. The figure is shown in brackets for the record only; "
                 + ("the random-data rows are the copy rate." if current else
                    "this run has no random-data rows, so no copy rate for mapped → device."))
        L.append("")
    if above["random"]:
        L.append(f"† Above the {GPU_MODEL}'s physical limit for a device copy (≈ {limit:,.0f} GB/s of bytes copied) "
                 f"with random (incompressible) data, published with this note: {a.above_limit_note}")
        L.append("")
    if impossible:
        print(f"report: {len(impossible)} random-data device-copy figure(s) above the {GPU_MODEL}'s physical limit "
              f"of {limit:,.0f} GB/s of bytes copied ({HBM_NAME} {HBM_GBPS / 1000:g} TB/s / 2); random bytes do not "
              "compress, so these cannot be copy rates (timing that does not wait for the copy?):", file=sys.stderr)
        for line in impossible:
            print(f"report:   {line}", file=sys.stderr)
        print(f"report: not writing {out_md}; fix the measurement, or pass --above-limit-note TEXT to publish them "
              "marked, with that explanation", file=sys.stderr)
        sys.exit(3)
    plot = make_plot(series, png)
    if plot is True:
        L.append(f"![copy bandwidth against size]({os.path.basename(png)})")
    else:
        L.append(f"(No plot: {plot}.)")
    L.append("")

    peer_copies(L, r, machine, targets, missing)

    # ---- allocation ---------------------------------------------------------------------------------
    L.append("## Allocation on hot paths")
    L.append("")
    alloc = sorted(((param, v) for (figure, param), (v, unit) in r.j.items() if figure == "alloc"),
                   key=lambda pv: pv[0])
    if alloc:
        L.append("Java heap bytes per operation allocated by the calling thread "
                 "(`com.sun.management.ThreadMXBean.getCurrentThreadAllocatedBytes`, `AllocationCheck`): each path "
                 "runs in rounds until a round allocates nothing (at most 60; early rounds run interpreted or "
                 "C1-compiled code). *Rounds* is how many it took. Target: 0 B/op on every hot path.")
        L.append("")
        L.append("| hot path | B/op (last round) | rounds | target |")
        L.append("| --- | ---: | ---: | --- |")
        for path, v in alloc:
            rounds = r.jval("alloc.rounds", path)
            met = v == 0
            targets.append((f"0 B/op {path}", met))
            L.append(f"| `{path}` | {fmt(v)} | {'' if rounds is None else int(rounds)} | {mark(met)} |")
        L.append("")
        L.append("For the record, JMH's `gc.alloc.rate.norm` (`-prof gc`) of every benchmark below. JMH 1.37 "
                 "divides the allocation of *all* threads of the JVM (`getTotalThreadAllocatedBytes`) by the "
                 "benchmark's operations, so an operation that lasts milliseconds (a 256 MiB copy) shows the JVM's "
                 "and JMH's own background allocation; `SemaphoreBench.signalWaitBatch8` counts the 16 records and "
                 "2 lists the benchmark itself builds per operation, as a caller would. The target is judged on "
                 "the table above.")
    else:
        L.append(f"`gc.alloc.rate.norm` from JMH's `-prof gc`, bytes per operation (below {ZERO_BYTES} B/op is "
                 "JMH's own noise and shown as 0). Target: 0 B/op on the hot paths (per-call, semaphore, frame, "
                 "copy). (No `AllocationCheck` figures in this run.)")
    L.append("")
    L.append("| benchmark | B/op (`-prof gc`) | hot path |" + ("" if alloc else " target |"))
    L.append("| --- | ---: | --- |" + ("" if alloc else " --- |"))
    hot = re.compile(r"^(PerCallBench\.(errorNameRaw|errorNameIdiomatic|getDevice|deviceCount)|SemaphoreBench|"
                     r"FrameBench|CopyBench|PeerCopyBench)")
    for (method, params), e in sorted(r.jmh.items(), key=lambda kv: (kv[0][0], [
            (k, int(v) if v.isdigit() else v) for k, v in kv[0][1]])):
        b = r.bytes_per_op(method, **dict(params))
        is_hot = bool(hot.match(method))
        if alloc:
            L.append(f"| `{method}`{params_label(params)} | {bop(b)} | {'yes' if is_hot else 'no'} |")
            continue
        met = None if b is None or not is_hot else b < ZERO_BYTES
        if is_hot:
            targets.append((f"0 B/op {method}{params_label(params)}", met))
        L.append(f"| `{method}`{params_label(params)} | {bop(b)} | {'yes' if is_hot else 'no'} | "
                 f"{mark(met) if is_hot else ''} |")
    L.append("")

    # ---- summary (inserted after the intro) ---------------------------------------------------------
    met = sum(1 for _, m in targets if m is True)
    not_met = [w for w, m in targets if m is False]
    unknown = sum(1 for _, m in targets if m is None)
    S = ["## Targets", "", f"{met} met, {len(not_met)} not met, {unknown} without data (of {len(targets)}).", ""]
    if not_met:
        S.append("Not met: " + "; ".join(not_met) + ".")
        S.append("")
    at = L.index("## Machine")
    L[at:at] = S

    if missing or r.c_errors:
        L.append("## Not measured")
        L.append("")
        for m in missing:
            L.append(f"- {m}")
        for e in r.c_errors:
            L.append(f"- C twin: `{e}`")
        L.append("")
    notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "notes.md")
    if os.path.exists(notes):
        # Hand-written analysis of the targets not met, kept beside the generator (benchmarks/notes.md).
        L.append(open(notes).read().rstrip())
        L.append("")
    L.append("## Reproduce")
    L.append("")
    L.append("```bash")
    L.append("scripts/gpu-test && scripts/bench        # here: the GPU bundle and .bundle/bench")
    L.append("bash .bundle/bench/run \"$OUT\"             # on the GPU machine (about 6 minutes)")
    L.append("python3 benchmarks/report.py OUTDIR       # here, on the fetched OUTDIR")
    L.append("```")
    L.append("")
    os.makedirs(os.path.dirname(out_md), exist_ok=True)
    with open(out_md, "w") as f:
        f.write("\n".join(L))
    print(f"report: wrote {out_md}" + (f" and {png}" if plot is True else f" (no plot: {plot})"))
    print(f"report: targets {met} met, {len(not_met)} not met, {unknown} without data")


PEER_SIZES = [1 << 20, 16 << 20, 256 << 20, 1 << 30]


def peer_copies(L, r, machine, targets, missing):
    """The "Peer copies" section: PeerCopyBench against native/peercopy.c, device 0 -> device 1."""
    gpus = machine.get("gpus", "").strip()
    one_gpu = (gpus.isdigit() and int(gpus) < 2) or any("needs 2 GPUs" in e for e in r.c_errors) or any(
        "needs 2 GPUs" in why for (m, _), why in r.failures.items() if m.startswith("PeerCopyBench."))
    cells = {(acc, n): (r.cval(f"peercopy.{acc}", n), r.ns("PeerCopyBench.copyPeer", bytes=n, peerAccess=acc),
                        r.ns("PeerCopyBench.copyPeerRaw", bytes=n, peerAccess=acc))
             for acc in ("off", "on") for n in PEER_SIZES}
    any_data = any(v is not None for c in cells.values() for v in c)
    judged = any_data or (gpus.isdigit() and int(gpus) >= 2)
    L.append("## Peer copies")
    L.append("")
    L.append(f"`Memory.copyPeer` from device 0's memory to device 1's (random bytes; synchronous: finished on the GPU "
             "when it returns) against C's `cudaMemcpyPeerAsync` on the NULL stream with the source's device current "
             "followed by `cudaStreamSynchronize(0)`, which is what `Memory.copyPeer` does on NVIDIA, in GB/s (10^9 "
             "bytes/s) from the time per copy (`PeerCopyBench`, `native/peercopy.c`). *Peer access off*: a process "
             "that never enabled it (the runtime stages the copy); *on*: enabled both ways first "
             "(`Device.enablePeerAccess`, `cudaDeviceEnablePeerAccess`). *Java raw*: the generated binding's same "
             f"two calls in the same JMH run. Target: Java ≥ {COPY_FRACTION:.0%} of C at ≥ {size_name(COPY_FROM)}.")
    L.append("")
    L.append("| peer access | size | C (GB/s) | Java (GB/s) | Java/C | Java raw (GB/s) | B/op | target |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    gbps = lambda n, t, scale: None if t is None else n / (t * scale) / 1e9
    for acc in ("off", "on"):
        c_skip = next((e for e in r.c_errors if e.startswith(f"C-SKIP peercopy.{acc}")), None)
        for n in PEER_SIZES:
            cus, jns, rns = cells[(acc, n)]
            cg, jg, rg = gbps(n, cus, 1e-6), gbps(n, jns, 1e-9), gbps(n, rns, 1e-9)
            rr = ratio(jg, cg)
            met = None if rr is None else rr >= COPY_FRACTION
            if judged and n >= COPY_FROM:
                targets.append((f"peer copy, peer access {acc}, {size_name(n)}", met))
            if cg is not None and jg is not None:
                tgt = mark(met) if n >= COPY_FROM else ""
            elif one_gpu and not any_data:
                tgt = "no second GPU in this run"
            elif not any_data:
                tgt = "no peer-copy figures in this run (`PeerCopyBench` and `peercopy` not run)"
            else:
                why = []
                if jg is None:
                    why.append("Java: " + (r.why_missing("PeerCopyBench.copyPeer", bytes=n, peerAccess=acc)
                                           or ("no second GPU in this run" if one_gpu else "no result")))
                if cg is None:
                    why.append("C: " + (c_skip or ("no second GPU in this run" if one_gpu else "no figure")))
                tgt = "; ".join(why)
            L.append(f"| {acc} | {size_name(n)} | {fmt(cg)} | {fmt(jg)} | {fmt(rr)} | {fmt(rg)} | "
                     f"{bop(r.bytes_per_op('PeerCopyBench.copyPeer', bytes=n, peerAccess=acc))} | {tgt} |")
    L.append("")
    if not any_data:
        missing.append("peer copies: " + ("no second GPU in this run" if one_gpu else
                                          "no `PeerCopyBench` or `peercopy` figures in this run"))


def params_label(params):
    return "" if not params else " (" + ", ".join(
        size_name(v) if k == "bytes" else f"{k}={v}" for k, v in params) + ")"


def make_plot(series, png):
    """Returns True when the PNG was written, else the reason. Uses this interpreter's matplotlib, else the system
    python3's (Debian's python3-matplotlib) when that one has it."""
    if not any(j is not None or c is not None for pts in series.values() for _, j, c, _ in pts):
        return "no copy figures in this run"
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        other = "/usr/bin/python3"
        if os.path.exists(other) and os.path.realpath(other) != os.path.realpath(sys.executable):
            import subprocess
            import tempfile
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
                json.dump(series, f)
            try:
                rc = subprocess.run([other, os.path.abspath(__file__), "--plot", f.name, png, str(HBM_GBPS or 0),
                                     HBM_NAME or "", GPU_MODEL or ""],
                                    capture_output=True, text=True)
            finally:
                os.unlink(f.name)
            if rc.returncode == 0:
                return True
        return "matplotlib does not import here (`apt-get install python3-matplotlib` gives /usr/bin/python3 " \
               "one, which this script then uses)"
    plot(series, png)
    return True


def plot(series, png):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    mapped = tuple(label for label in series if label.startswith("mapped"))
    hbm = (HBM_GBPS / 2, f"{GPU_MODEL} {HBM_NAME} / 2 (copy)") if HBM_GBPS else (None, None)
    for ax, labels, peak, peak_label in ((axes[0], ("host → device", "device → host"), PCIE_GBPS, "PCIe Gen5 x16"),
                                         (axes[1], mapped) + hbm):
        for label in labels:
            pts = series.get(label, [])
            xs = [p[0] for p in pts]
            for idx, side, style in ((1, "Java", "-o"), (2, "C", "--s"), (3, "C async peak", ":^")):
                ys = [p[idx] if p[idx] is not None else float("nan") for p in pts]
                if any(not math.isnan(y) for y in ys):
                    if "uniform" in label:      # compressible data: faded, and named for what it measures
                        ax.plot(xs, ys, style, label=f"{label}, {side}: compression, not a copy rate",
                                markersize=4, alpha=0.4)
                    else:
                        ax.plot(xs, ys, style, label=f"{label}, {side}", markersize=4)
        if peak:
            ax.axhline(peak, color="grey", linewidth=0.8, linestyle="-.", label=f"physical limit: {peak_label}")
        ax.set_xscale("log", base=2)
        ticks = sorted({p[0] for label in labels for p in series.get(label, [])})
        ax.set_xticks(ticks, [size_name(t) for t in ticks], fontsize=8)
        ax.minorticks_off()
        ax.set_xlabel("bytes per copy")
        ax.set_ylabel("GB/s (10^9 bytes/s)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    axes[0].set_title("pinned host <-> device (Memory.copy vs the C twin)")
    axes[1].set_title("mapped Vulkan buffer -> device" + ("" if HBM_GBPS else " (unknown GPU: no limit)"))
    fig.tight_layout()
    fig.savefig(png, dpi=110)


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "--plot":      # internal: plot with another interpreter's matplotlib
        HBM_GBPS, HBM_NAME, GPU_MODEL = float(sys.argv[4]) or None, sys.argv[5] or None, sys.argv[6] or None
        with open(sys.argv[2]) as fh:
            plot(json.load(fh), sys.argv[3])
    else:
        main()
