#!/usr/bin/env python3
"""Turns a benchmark run's output folder (.bundle/bench/run OUTDIR, fetched from the GPU machine) into
docs/performance.md: every figure with Java, C, the ratio Java/C, the hardware peak where one applies, and the
issue's targets marked met / not met; plus a PNG plot of copy bandwidth against size (when matplotlib imports).

    python3 benchmarks/report.py OUTDIR [--out docs/performance.md] [--machine "NVIDIA H100 (device tool)"]

Reads OUTDIR/jmh.json (else OUTDIR/jmh/*.json), bench.csv (C,... and J,... lines), machine.txt, info.txt, and,
for the reasons of what did not run, jmh.txt and c.err. Standard library only (matplotlib is optional)."""
import argparse
import datetime
import statistics
import glob
import json
import math
import os
import re
import sys

PCIE_GBPS = 64.0            # PCIe Gen5 x16, each way (32 GT/s x 16 lanes, 128b/130b: ~63 GB/s)
HBM_GBPS = 3350.0           # H100 SXM HBM3; main() sets the GPU's own from machine.txt (HBM_BY_GPU)
HBM_NAME = "HBM3"
HBM_BY_GPU = (("H200", 4800.0, "HBM3e"), ("H100", 3350.0, "HBM3"))   # GPU name part, GB/s, memory
PER_CALL_RATIO, PER_CALL_NS = 1.10, 20.0
FRAME_RATIO = 1.05
COPY_FRACTION, COPY_FROM = 0.97, 1 << 20
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


class Run:
    def __init__(self, out):
        self.out = out
        self.jmh = {}           # (method, params tuple) -> entry
        self.c = {}             # (figure, param) -> (value, unit)
        self.j = {}             # FrameLatency lines
        self.failures = {}      # (method, params tuple) -> reason
        self.c_errors = []
        self.load()

    def path(self, name):
        return os.path.join(self.out, name)

    def load(self):
        files = [self.path("jmh.json")] if os.path.exists(self.path("jmh.json")) else []
        entries = []
        for f in files or sorted(glob.glob(self.path("jmh/*.json"))):
            try:
                with open(f) as fh:
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
        if os.path.exists(self.path("c.err")):
            self.c_errors = [l.strip() for l in open(self.path("c.err"), errors="replace")
                             if l.startswith(("C-ERROR", "C-SKIP", "C-FAIL"))]

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

    def why_missing(self, method, **params):
        key = (method, tuple(sorted((k, str(v)) for k, v in params.items())))
        return self.failures.get(key)


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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--out", default=None, help="the Markdown file (default: docs/performance.md in the repo)")
    ap.add_argument("--machine", default=None, help="how to name the machine (default: from machine.txt)")
    a = ap.parse_args()
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_md = a.out or os.path.join(repo, "docs", "performance.md")
    png = os.path.splitext(out_md)[0] + "-bandwidth.png"
    r = Run(a.outdir)
    machine = read_kv(os.path.join(a.outdir, "machine.txt"))
    info = read_kv(os.path.join(a.outdir, "info.txt"))
    global HBM_GBPS, HBM_NAME
    for part, gbps, name in HBM_BY_GPU:
        if part in machine.get("gpu", ""):
            HBM_GBPS, HBM_NAME = gbps, name
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
             "Ratios are Java/C: time for calls (lower is better), bandwidth for copies (higher is better).")
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
    L.append(f"| run date (UTC) | {machine.get('date', '?')} |")
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
            jmh = None
            if fig == "frame.wall" and p != "mean":
                jmh = r.percentile_us("FrameBench.frame", float(p[1:]))
            elif fig == "frame.wall":
                e = r.ns("FrameBench.frame")
                jmh = None if e is None else e / 1e3
            met = None
            if p == "p50":
                met = None if j is None or c is None else j <= c * FRAME_RATIO
                targets.append((f"frame median ({label})", met))
            L.append(f"| {label} {'median' if p == 'p50' else p} | {fmt(c)} | {fmt(j)} | {fmt(ratio(j, c))} | "
                     f"{fmt(jmh)} | {mark(met) if p == 'p50' else ''} |")
    if r.jval("frame.event", "p50") is None:
        missing.append("`FrameLatency`: no result (see java.err)")
    if r.ns("FrameBench.frame") is None:
        missing.append(f"`FrameBench.frame`: {r.why_missing('FrameBench.frame') or 'no result'}")
    L.append("")
    L.append(f"`FrameBench.frame`: {bop(r.bytes_per_op('FrameBench.frame'))} B per frame by JMH's `-prof gc` (all threads); "
             "the frame's own allocation (calling thread only) is in *Allocation on hot paths*.")
    L.append("")

    # ---- import -------------------------------------------------------------------------------------
    L.append("## Import, map, release")
    L.append("")
    L.append("One cycle on a Vulkan-exported allocation: import a `dup` of its fd (`ExternalMemory.importCopy`; "
             "C: `dup` + `cudaImportExternalMemory`), map all of it, release (free, destroy, close). No target in "
             "the issue; shown for the record.")
    L.append("")
    L.append("| allocation | C (µs) | Java (µs) | Java/C | B/op |")
    L.append("| --- | ---: | ---: | ---: | ---: |")
    for n in (1 << 20, 256 << 20):
        c = r.cval("importMapRelease", n)
        j = r.ns("ImportBench.importMapRelease", bytes=n)
        j = None if j is None else j / 1e3
        L.append(f"| {size_name(n)} | {fmt(c)} | {fmt(j)} | {fmt(ratio(j, c))} | "
                 f"{bop(r.bytes_per_op('ImportBench.importMapRelease', bytes=n))} |")
        if j is None:
            missing.append(f"`ImportBench.importMapRelease` ({size_name(n)}): "
                           f"{r.why_missing('ImportBench.importMapRelease', bytes=n) or 'no result'}")
    L.append("")

    # ---- copies -------------------------------------------------------------------------------------
    L.append("## Copy bandwidth")
    L.append("")
    L.append(f"`Memory.copy` (synchronous `hipMemcpy`, direction from the pointers) against C's `cudaMemcpy` with "
             f"`cudaMemcpyDefault`, in GB/s (10^9 bytes/s) from the time per copy. *C async peak*: back-to-back "
             f"`cudaMemcpyAsync` timed with events (as `shared/probes/anchor.c`), the practical limit. Peaks: PCIe "
             f"Gen5 x16 ≈ {PCIE_GBPS:.0f} GB/s each way; {HBM_NAME} ≈ {HBM_GBPS / 1000:.2f} TB/s, and a device copy reads "
             f"and writes every byte, so its limit is ≈ {HBM_GBPS / 2000:.3f} TB/s of bytes copied. Target: Java ≥ "
             f"{COPY_FRACTION:.0%} of C at ≥ {size_name(COPY_FROM)}.")
    L.append("")
    L.append("*Java raw*: the generated binding's `cudaMemcpy` (one downcall, no hip-ffm code) in the same JMH run, "
             "where measured: where Java and Java raw agree and both differ from C, the difference is the JVM's "
             "(the same downcall), not hip-ffm's.")
    L.append("")
    L.append("| direction | size | C (GB/s) | Java (GB/s) | Java/C | Java raw (GB/s) | C async peak (GB/s) | "
             "Java % of peak | B/op | target |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    series = {}
    for label, method, cfig, peak_fig, sizes, peak in (
            ("host → device", "CopyBench.hostToDevice", "memcpy.h2d", "memcpyAsync.h2d", SIZES, PCIE_GBPS),
            ("device → host", "CopyBench.deviceToHost", "memcpy.d2h", "memcpyAsync.d2h", SIZES, PCIE_GBPS),
            ("mapped → device", "CopyBench.deviceToDeviceMapped", "memcpy.d2dMapped", "memcpyAsync.d2dMapped",
             D2D_SIZES, HBM_GBPS / 2)):
        for n in sizes:
            cus = r.cval(cfig, n)
            jns = r.ns(method, bytes=n)
            rns = r.ns(method + "Raw", bytes=n)
            rg = None if rns is None else n / (rns * 1e-9) / 1e9
            cg = None if cus is None else n / (cus * 1e-6) / 1e9
            jg = None if jns is None else n / (jns * 1e-9) / 1e9
            pk = r.cval(peak_fig, n)
            rr = ratio(jg, cg)
            met = None
            if n >= COPY_FROM:
                met = None if rr is None else rr >= COPY_FRACTION
                targets.append((f"copy {label} {size_name(n)}", met))
            series.setdefault(label, []).append((n, jg, cg, pk))
            L.append(f"| {label} | {size_name(n)} | {fmt(cg)} | {fmt(jg)} | {fmt(rr)} | {'' if rg is None else fmt(rg)} | {fmt(pk)} | "
                     f"{'—' if jg is None else f'{100 * jg / peak:.0f}%'} | {bop(r.bytes_per_op(method, bytes=n))} "
                     f"| {mark(met) if n >= COPY_FROM else ''} |")
            if jns is None:
                missing.append(f"`{method}` ({size_name(n)}): {r.why_missing(method, bytes=n) or 'no result'}")
    L.append("")
    plot = make_plot(series, png)
    if plot is True:
        L.append(f"![copy bandwidth against size]({os.path.basename(png)})")
    else:
        L.append(f"(No plot: {plot}.)")
    L.append("")

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
                     r"FrameBench|CopyBench)")
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
    L.append("bash .bundle/bench/run \"$OUT\"             # on the GPU machine (about 3-4 minutes)")
    L.append("python3 benchmarks/report.py OUTDIR       # here, on the fetched OUTDIR")
    L.append("```")
    L.append("")
    os.makedirs(os.path.dirname(out_md), exist_ok=True)
    with open(out_md, "w") as f:
        f.write("\n".join(L))
    print(f"report: wrote {out_md}" + (f" and {png}" if plot is True else f" (no plot: {plot})"))
    print(f"report: targets {met} met, {len(not_met)} not met, {unknown} without data")


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
                rc = subprocess.run([other, os.path.abspath(__file__), "--plot", f.name, png, str(HBM_GBPS), HBM_NAME],
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
    for ax, labels, peak, peak_label in ((axes[0], ("host → device", "device → host"), PCIE_GBPS, "PCIe Gen5 x16"),
                                         (axes[1], ("mapped → device",), HBM_GBPS / 2, HBM_NAME + " / 2 (copy)")):
        for label in labels:
            pts = series.get(label, [])
            xs = [p[0] for p in pts]
            for idx, side, style in ((1, "Java", "-o"), (2, "C", "--s"), (3, "C async peak", ":^")):
                ys = [p[idx] if p[idx] is not None else float("nan") for p in pts]
                if any(not math.isnan(y) for y in ys):
                    ax.plot(xs, ys, style, label=f"{label}, {side}", markersize=4)
        ax.axhline(peak, color="grey", linewidth=0.8, linestyle="-.", label=f"peak: {peak_label}")
        ax.set_xscale("log", base=2)
        ticks = sorted({p[0] for label in labels for p in series.get(label, [])})
        ax.set_xticks(ticks, [size_name(t) for t in ticks], fontsize=8)
        ax.minorticks_off()
        ax.set_xlabel("bytes per copy")
        ax.set_ylabel("GB/s (10^9 bytes/s)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    axes[0].set_title("pinned host <-> device (Memory.copy vs cudaMemcpy)")
    axes[1].set_title("mapped Vulkan buffer -> device")
    fig.tight_layout()
    fig.savefig(png, dpi=110)


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--plot":      # internal: plot with another interpreter's matplotlib
        HBM_GBPS, HBM_NAME = float(sys.argv[4]), sys.argv[5]
        with open(sys.argv[2]) as fh:
            plot(json.load(fh), sys.argv[3])
    else:
        main()
