#!/usr/bin/env python3
"""Helpers for bench/run.

  report.py parse-dnsperf FILE FIELD   one figure from dnsperf's summary
  report.py latency FILE WHO TAG       percentiles of a `dnsperf -v` run, as
                                       JSON lines for the raw results (a
                                       one-line summary goes to stderr)
  report.py seqlat FILE WHO TAG N TIMEOUT_S
                                       the sequential-miss run (`dnsperf -q 1
                                       -v` over N names): the first answer
                                       alone, the median of the others (a lost
                                       query counts as slower than any answer)
  report.py report RAW --out PREFIX [--doc FILE --notes FILE]
                                       the table (stdout), PREFIX.json,
                                       PREFIX.csv, PREFIX.png and, with --doc,
                                       the benchmarks document.  RAW is
                                       bench/run's JSON lines or a PREFIX.json
                                       written before (it keeps them), e.g.
                                       to rewrite the document after editing
                                       bench/notes.md:
    bench/report.py report bench/results/latest.json --out bench/results/latest \\
        --doc docs/benchmarks.md --notes bench/notes.md
"""
import csv
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile

SERVERS = ["fdtool", "pdns-recursor", "unbound", "dnsmasq"]
PEERS = ["pdns-recursor", "unbound", "dnsmasq"]
FLOORS = ["null-plain", "null-batch"]


# ------------------------------------------------------------------ dnsperf
def parse_dnsperf(path):
    text = open(path, errors="replace").read()
    out = {}

    def grab(name, pattern, conv=float):
        m = re.search(pattern, text, re.M)
        if m:
            out[name] = conv(m.group(1))

    grab("sent", r"^\s*Queries sent:\s+(\d+)", int)
    grab("completed", r"^\s*Queries completed:\s+(\d+)", int)
    grab("lost", r"^\s*Queries lost:\s+(\d+)", int)
    grab("runtime", r"^\s*Run time \(s\):\s+([\d.]+)")
    grab("qps", r"^\s*Queries per second:\s+([\d.]+)")
    grab("avg_s", r"^\s*Average Latency \(s\):\s+([\d.]+)")
    grab("max_s", r"^\s*Average Latency \(s\):.*max ([\d.]+)\)")
    grab("noerror", r"NOERROR (\d+)", int)
    grab("resp_bytes", r"^\s*Average packet size:.*response\s+(\d+)", int)
    if "avg_s" in out:
        out["avg_ms"] = round(out["avg_s"] * 1000, 3)
    if "max_s" in out:
        out["max_ms"] = round(out["max_s"] * 1000, 3)
    if "qps" in out:
        out["qps"] = round(out["qps"], 1)
    for k in ("completed", "lost", "noerror", "sent"):
        out.setdefault(k, 0)
    return out


def cmd_parse(path, field):
    v = parse_dnsperf(path).get(field)
    print(v if v is not None else 0)


def cmd_latency(path, who, tag):
    lats = []
    lost_lines = 0
    with open(path, errors="replace") as f:
        for line in f:
            if not line.startswith("> "):
                continue
            parts = line.split()
            if parts[1] == "T":      # timed out
                lost_lines += 1
                continue
            try:
                lats.append(float(parts[-1]))
            except ValueError:
                pass
    summary = parse_dnsperf(path)
    lost = max(summary.get("lost", 0), lost_lines)
    lats.sort()

    def pct(p):
        if not lats:
            return None
        return round(lats[min(len(lats) - 1, int(math.ceil(p * len(lats))) - 1)] * 1000, 3)

    res = {
        "n": len(lats),
        "qps": summary.get("qps", 0),
        "lost": lost,
        "avg_ms": round(statistics.fmean(lats) * 1000, 3) if lats else None,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "p999_ms": pct(0.999),
        "max_ms": round(lats[-1] * 1000, 3) if lats else None,
        "slow10": sum(1 for x in lats if x > 0.010) + lost,
    }
    for k, v in res.items():
        if v is not None:
            print(json.dumps({"who": who, "key": f"{tag}_{k}", "value": v}))
    print(f"bench:   {who} {tag}: {res['n']} answers, {res['qps']} qps, p50 {res['p50_ms']} ms, "
          f"p99 {res['p99_ms']} ms, max {res['max_ms']} ms, >10 ms or lost: {res['slow10']}",
          file=sys.stderr)


def cmd_seqlat(path, who, tag, n, timeout_s):
    """dnsperf -c 1 -q 1 -v prints one line per query in the order sent:
    "> RCODE name type latency" for an answer, "> T name type" for a query
    lost after -t.  Queries not sent before -l ran out are counted apart."""
    seq = []
    with open(path, errors="replace") as f:
        for line in f:
            if not line.startswith("> "):
                continue
            parts = line.split()
            if parts[1] == "T":
                seq.append(math.inf)
                continue
            try:
                seq.append(float(parts[-1]))
            except ValueError:
                pass
    n = int(n)
    rest = seq[1:]
    answered = [x for x in rest if x != math.inf]
    res = {"sent": len(seq), "unsent": max(0, n - len(seq)),
           "measured": len(rest), "answered": len(answered), "lost": len(rest) - len(answered)}
    if seq:
        res["first_ms"] = round(seq[0] * 1000, 3) if seq[0] != math.inf else f">{timeout_s} s (lost)"
    if rest:
        med = statistics.median(rest)
        res["p50_ms"] = round(med * 1000, 3) if med != math.inf else f">{timeout_s} s (most lost)"
        rs = sorted(rest)
        p90 = rs[min(len(rs) - 1, int(math.ceil(0.9 * len(rs))) - 1)]
        res["p90_ms"] = round(p90 * 1000, 3) if p90 != math.inf else f">{timeout_s} s (lost)"
    if answered:
        res["max_ms"] = round(max(answered) * 1000, 3)
    for k, v in res.items():
        print(json.dumps({"who": who, "key": f"{tag}_{k}", "value": v}))
    print(f"bench:   {who} {tag}: {len(seq)} of {n} sent, first {res.get('first_ms')} ms, "
          f"then median {res.get('p50_ms')} ms, p90 {res.get('p90_ms')} ms over {len(rest)} "
          f"({res['lost']} lost)", file=sys.stderr)


# ------------------------------------------------------------------ report
def load_raw(path):
    """The raw records: bench/run's JSON lines, or the "raw" list kept in a
    results JSON (so a report can be written again from latest.json)."""
    if path.endswith(".json"):
        records = json.load(open(path))["raw"]
    else:
        records = [json.loads(line) for line in open(path) if line.strip()]
    data = {}
    for j in records:
        data.setdefault(j["who"], {})[j["key"]] = j["value"]
    return data, records


def creator_summary(data):
    """Medians over the runs of creator_floor's per-run figures."""
    out = {}
    for who in ("creator", "creator-quiet"):
        runs = [dict(x.split("=", 1) for x in str(v).split())
                for k, v in sorted(data.get(who, {}).items()) if k.startswith("run")]
        if not runs:
            continue
        med = lambda key: round(statistics.median(float(r[key]) for r in runs), 3)
        out[who] = {
            "bare_median_us": med("bare_median_us"),
            "bare_p90_us": med("bare_p90_us"),
            "fdtool_median_us": med("fdtool_median_us"),
            "fdtool_p90_us": med("fdtool_p90_us"),
            "ratio_median": med("ratio_median"),
            "release_median_us": med("release_median_us"),
            "runs_ratio": [float(r["ratio_median"]) for r in runs],
        }
    return out


# Rows of the table: key, label, scale, decimals, better ("lo"/"hi"/None)
ROWS = [
    ("udp_qps", "UDP cache-hit QPS", 1, 0, "hi"),
    ("udp_cpu_pct", "UDP cache-hit server CPU %", 1, 1, None),
    ("udp_cpu_us_per_q", "UDP cache-hit CPU µs/query", 1, 2, "lo"),
    ("udp_lat_avg_ms", "UDP cache-hit latency avg ms (full load)", 1, 3, "lo"),
    ("udp_lat_p99_ms", "UDP cache-hit latency p99 ms (full load)", 1, 3, "lo"),
    ("tcp_qps", "TCP cache-hit QPS", 1, 0, "hi"),
    ("tcp_cpu_pct", "TCP cache-hit server CPU %", 1, 1, None),
    ("tcp_cpu_us_per_q", "TCP cache-hit CPU µs/query", 1, 2, "lo"),
    ("tcp_max_ms", "TCP cache-hit latency max ms", 1, 2, "lo"),
    ("tcp_lost", "TCP cache-hit queries lost", 1, 0, "lo"),
    ("miss_qps", "cache-miss QPS (median of 3)", 1, 0, "hi"),
    ("miss_cpu_us_per_q", "cache-miss CPU µs/query", 1, 2, "lo"),
    ("rss_start_mib", "RSS at start, MiB", 1, 1, "lo"),
    ("rss_mib", "RSS after warming, MiB", 1, 1, "lo"),
    ("dump_s", "dump of the warmed cache, s", 1, 3, "lo"),
    ("dump_mb", "dump size, MB", 1, 2, None),
    ("fixed_p99_ms", "p99 ms at fixed load", 1, 3, "lo"),
    ("fixed_max_ms", "max ms at fixed load", 1, 2, "lo"),
    ("fixed_dump_p99_ms", "p99 ms at fixed load, dump running", 1, 3, "lo"),
    ("fixed_dump_max_ms", "max ms at fixed load, dump running", 1, 2, "lo"),
    ("fixed_dump_slow10", "queries >10 ms or lost, dump running", 1, 0, "lo"),
    ("creator_us", "creator round trip µs (median)", 1, 2, "lo"),
]

# The issue-9 rows (labels take the run's parameters)
ROWS9 = [
    ("seq_ok_p50_ms", "miss latency p50 ms, sequential, upstream NSD alone", 1, 3, "lo"),
    ("seq_dead_p50_ms", "miss latency p50 ms, sequential, dead first upstream", 1, 3, "lo"),
    ("seq_dead_ratio", "dead-upstream ÷ healthy miss p50", 1, 2, "lo"),
    ("seq_dead_p90_ms", "miss latency p90 ms, dead first upstream", 1, 3, "lo"),
    ("seq_dead_first_ms", "first miss ms, dead first upstream (not in the median)", 1, 1, "lo"),
    ("seq_dead_answered_txt", "misses 2–{seq_n} answered, dead first upstream, in {seq_limit_s} s", 1, 0, None),
    ("seq_dead_upstream_got", "queries the dead upstream received", 1, 0, "lo"),
    ("burst_q_max", "upstream queries per {burst_n} identical misses, max of {bursts}", 1, 0, "lo"),
    ("burst_q_median", "upstream queries per {burst_n} identical misses, median of {bursts}", 1, 0, "lo"),
    ("do_qps", "DO cache-hit QPS, signed zone", 1, 0, "hi"),
    ("do_cpu_us_per_q", "DO cache-hit CPU µs/query", 1, 2, "lo"),
    ("do_resp_bytes", "DO cache-hit answer, bytes (average)", 1, 0, None),
    ("do_rrsig_txt", "DO answer carries the RRSIG", 1, 0, None),
    ("do_upstream_q", "upstream queries during the DO cache-hit run", 1, 0, "lo"),
    ("rss150_start_mib", "RSS at start, cache process, MiB (caches of {rss_cache})", 1, 1, "lo"),
    ("rss150_main_mib", "RSS, {hit_names} names, cache process, MiB (caches of {rss_cache})", 1, 1, "lo"),
    ("rss150_tree_mib", "RSS, {hit_names} names, process tree, MiB (caches of {rss_cache})", 1, 1, "lo"),
    ("rss150_anon_mib", "RssAnon (heap, no file pages), {hit_names} names, cache process, MiB", 1, 1, "lo"),
]


def derive(data, creator):
    for who, d in data.items():
        for key in ("qps", "cpu_us_per_q", "cpu_pct", "lost"):
            vals = [d[f"miss{i}_{key}"] for i in (1, 2, 3) if num(d.get(f"miss{i}_{key}")) is not None]
            if vals:
                d[f"miss_{key}"] = (sum(vals) if key == "lost" else
                                    round(statistics.median(vals), 3 if key != "qps" else 1))
        if "rss_kib" in d:
            d["rss_mib"] = round(d["rss_kib"] / 1024, 1)
        if "rss_start_kib" in d:
            d["rss_start_mib"] = round(d["rss_start_kib"] / 1024, 1)
        if "dump_bytes" in d:
            d["dump_mb"] = round(d["dump_bytes"] / 1e6, 2)
        for k in ("rss150_start", "rss150_main", "rss150_tree", "rss150_anon"):
            if num(d.get(k + "_kib")) is not None:
                d[k + "_mib"] = round(d[k + "_kib"] / 1024, 1)
        a, b = num(d.get("seq_dead_p50_ms")), num(d.get("seq_ok_p50_ms"))
        if a is not None and b:
            d["seq_dead_ratio"] = round(a / b, 3)
        elif isinstance(d.get("seq_dead_p50_ms"), str) and b:
            d["seq_dead_ratio"] = "–"
        if "seq_dead_measured" in d:
            d["seq_dead_answered_txt"] = f"{d.get('seq_dead_answered', 0)} of {d['seq_dead_measured'] + d.get('seq_dead_unsent', 0)}"
        bursts = [d[k] for k in sorted(d) if re.fullmatch(r"burst\d+_upstream_q", k) and num(d[k]) is not None]
        if bursts:
            d["burst_q_max"] = max(bursts)
            d["burst_q_median"] = statistics.median(bursts)
            d["burst_q_all"] = "/".join(str(x) for x in bursts)
        if "do_rrsig" in d:
            d["do_rrsig_txt"] = {1: "yes", 0: "no"}.get(d["do_rrsig"], "?")
    if "creator" in creator:
        data.setdefault("fdtool", {})["creator_us"] = creator["creator"]["fdtool_median_us"]
        data.setdefault("floor-creator", {})["creator_us"] = creator["creator"]["bare_median_us"]


def floor_of(data, key):
    """The floor a row compares with: the batched null responder for UDP
    rows, the bare hand-over for the creator row."""
    if key == "creator_us":
        return data.get("floor-creator", {}).get(key)
    if key == "do_cpu_us_per_q":	# the existing floor: cache-hit UDP, batched
        return data.get("null-batch", {}).get("udp_cpu_us_per_q")
    if key.startswith(("udp_", "fixed_p99", "fixed_max")):
        return data.get("null-batch", {}).get(key)
    return None


def fmt(v, dec):
    if v is None:
        return "–"
    if isinstance(v, str):
        return v
    if dec == 0:
        return f"{v:,.0f}"
    return f"{v:.{dec}f}"


def num(v):
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def ratio(a, b):
    a, b = num(a), num(b)
    if a is None or b is None or b == 0:
        return None
    return a / b


def build_table(data, which=None, params=None):
    head = ["metric", "fdtool", "pdns-recursor", "unbound", "dnsmasq", "null plain",
            "floor", "fdtool ÷ pdns", "÷ unbound", "÷ dnsmasq", "÷ floor"]
    rows = []
    params = params or {}
    lp = {k: (f"{v:,}" if isinstance(v, int) else v) for k, v in params.items()}
    lp.setdefault("seq_n", 201)
    for key, label, _scale, dec, _better in (ROWS if which is None else which):
        try:
            label = label.format(**lp)
        except (KeyError, IndexError, ValueError):
            pass
        vals = [data.get(w, {}).get(key) for w in SERVERS]
        tag = key.split("_")[0]
        vals = [("failed" if v is None and f"{tag}_error" in data.get(w, {}) else v)
                for v, w in zip(vals, SERVERS)]
        if all(v is None for v in vals):
            continue
        plain = data.get("null-plain", {}).get(key) if key not in ("creator_us", "do_cpu_us_per_q") else None
        fl = floor_of(data, key)
        f = num(vals[0])
        rats = [ratio(f, data.get(p, {}).get(key)) for p in PEERS] + [ratio(f, fl)]
        rows.append([label] + [fmt(v, dec) for v in vals] + [fmt(plain, dec), fmt(fl, dec)] +
                    [("–" if r is None else f"{r:.2f}") for r in rats])
    return head, rows


def text_table(head, rows):
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    lines = []
    for n, r in enumerate([head] + rows):
        cells = [str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i])
                 for i, c in enumerate(r)]
        lines.append("  ".join(cells))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def md_table(head, rows):
    out = ["| " + " | ".join(head) + " |",
           "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def targets(data, creator, params):
    g = lambda who, key: data.get(who, {}).get(key)
    res = []

    def add(name, ok, detail):
        res.append({"target": name, "met": ok, "detail": detail})

    a, b = g("fdtool", "udp_cpu_us_per_q"), g("null-batch", "udp_cpu_us_per_q")
    if a is not None and b:
        add("server CPU per cache-hit UDP query ≤ 1.15 × batched null responder",
            a <= 1.15 * b, f"{a:.2f} µs vs {b:.2f} µs: {a / b:.2f}×")
    a, b = g("fdtool", "tcp_qps"), g("pdns-recursor", "tcp_qps")
    if a is not None and b:
        add("TCP cache-hit QPS ≥ pdns-recursor's", a >= b,
            f"{a:,.0f} vs {b:,.0f} qps: {a / b:.2f}×")
    a, b = g("fdtool", "miss_qps"), g("dnsmasq", "miss_qps")
    if a is not None and b:
        runs = lambda w: "/".join(f"{g(w, f'miss{i}_qps'):,.0f}" for i in (1, 2, 3)
                                   if num(g(w, f"miss{i}_qps")) is not None)
        add("cache-miss QPS ≥ dnsmasq's", a >= b,
            f"median of 3: {a:,.0f} vs {b:,.0f} qps: {a / b:.2f}× (runs {runs('fdtool')} vs {runs('dnsmasq')})")
    a, b = g("fdtool", "rss_mib"), g("dnsmasq", "rss_mib")
    if a is not None and b:
        m = g("fdtool", "rss_main_kib")
        extra = f" (server process alone {m / 1024:.1f} MiB)" if m else ""
        add(f"RSS at {params.get('hit_names', 100000):,} cached names ≤ dnsmasq's", a <= b,
            f"{a:.1f} MiB vs {b:.1f} MiB: {a / b:.2f}×{extra}")
    a, b = g("fdtool", "dump_s"), g("pdns-recursor", "dump_s")
    if a is not None and b:
        add("dump ≤ 0.5 × pdns-recursor's time", a <= 0.5 * b,
            f"{a:.3f} s vs {b:.3f} s: {a / b:.2f}×")
    mx, slow, lost = g("fdtool", "fixed_dump_max_ms"), g("fdtool", "fixed_dump_slow10"), \
        g("fdtool", "fixed_dump_lost")
    if mx is not None:
        add(f"no query slower than 10 ms at {params.get('fixed_qps', 20000):,} qps while a dump runs",
            (slow or 0) == 0,
            f"max {mx:.2f} ms, {slow} queries over 10 ms or lost ({lost or 0} lost); "
            f"dump took {g('fdtool', 'dump_loaded_s')} s")
    if "creator" in creator:
        c = creator["creator"]
        q = creator.get("creator-quiet")
        extra = (f"; with --log-level warning {q['fdtool_median_us']:.2f} µs vs "
                 f"{q['bare_median_us']:.2f} µs: {q['ratio_median']:.2f}×") if q else ""
        add("creator round trip ≤ 1.2 × bare socket+bind+SCM_RIGHTS", c["ratio_median"] <= 1.2,
            f"{c['fdtool_median_us']:.2f} µs vs {c['bare_median_us']:.2f} µs: "
            f"{c['ratio_median']:.2f}× (median over blocks and runs){extra}")
    return res


def targets9(data, params):
    """Issue 9's targets (fdtool's figures; the peers' are in the rows)."""
    g = lambda who, key: data.get(who, {}).get(key)
    f = data.get("fdtool", {})
    res = []

    def add(name, ok, detail):
        res.append({"target": name, "met": ok, "detail": detail})

    if "seq_dead_sent" in f:
        a, b = f.get("seq_dead_p50_ms"), f.get("seq_ok_p50_ms")
        limit = params.get("seq_limit_s", "?")
        meas = f.get("seq_dead_measured", 0) + f.get("seq_dead_unsent", 0)
        done = (f"; {f.get('seq_dead_answered', 0)} of misses 2–{meas + 1} answered within "
                f"the {limit} s limit ({f.get('seq_dead_lost', 0)} lost, "
                f"{f.get('seq_dead_unsent', 0)} never sent), first miss "
                f"{f.get('seq_dead_first_ms')} ms, dead upstream received "
                f"{f.get('seq_dead_upstream_got', '?')} queries")
        if num(a) is not None and num(b):
            ok = a <= 1.2 * b and f.get("seq_dead_unsent", 0) == 0 and f.get("seq_dead_lost", 0) == 0
            add("miss median with a dead first upstream ≤ 1.2 × with a healthy one", ok,
                f"{a:.3f} ms vs {b:.3f} ms: {a / b:.2f}×{done}")
        else:
            add("miss median with a dead first upstream ≤ 1.2 × with a healthy one", False,
                f"{a} vs {b} ms{done}")
    bursts = [f[k] for k in sorted(f) if re.fullmatch(r"burst\d+_upstream_q", k)]
    if bursts:
        add(f"one upstream query per burst of {params.get('burst_n', 50)} identical concurrent misses",
            all(b == 1 for b in bursts),
            f"per burst {'/'.join(str(b) for b in bursts)} (max {max(bursts)}, median "
            f"{statistics.median(bursts):g}); upstream answers held {params.get('proxy_delay_ms', '?')} ms")
    a, b = f.get("do_cpu_us_per_q"), g("null-batch", "udp_cpu_us_per_q")
    if num(a) is not None and num(b):
        rr, upq, done = f.get("do_rrsig"), f.get("do_upstream_q"), f.get("do_completed") or 0
        hits = num(upq) is not None and upq <= 0.01 * max(done, 1)
        ok = a <= 1.25 * b and rr == 1 and hits
        why = []
        if rr != 1:
            why.append("the answers carry no RRSIG")
        if not hits:
            why.append(f"{upq} of {done:,} queries went upstream: not cache hits")
        add("server CPU per DO cache hit on a signed zone ≤ 1.25 × batched null responder", ok,
            f"{a:.2f} µs vs {b:.2f} µs: {a / b:.2f}×; answers {f.get('do_resp_bytes', '?')} bytes, "
            f"RRSIG {f.get('do_rrsig_txt', '?')}, {upq} upstream queries during the run"
            + (f" ({'; '.join(why)})" if why else ""))
    a, b = f.get("rss150_main_mib"), g("dnsmasq", "rss150_main_mib")
    if num(a) is not None and num(b):
        t, tb = f.get("rss150_tree_mib"), g("dnsmasq", "rss150_tree_mib")
        add(f"RSS at {params.get('hit_names', 100000):,} names, caches of "
            f"{params.get('rss_cache', 150000):,}, ≤ 1.0 × dnsmasq's (the process that holds the cache)",
            a <= b, f"{a:.1f} MiB vs {b:.1f} MiB: {a / b:.2f}× (process trees: {t} vs {tb} MiB"
            + (f", {t / tb:.2f}×" if num(t) is not None and num(tb) else "") + ")")
    return res


def plot(data, prefix):
    who_all = SERVERS + FLOORS
    label = {"null-plain": "null (plain)", "null-batch": "null (batch)"}
    fd, dat1 = tempfile.mkstemp(suffix=".dat")
    with os.fdopen(fd, "w") as f:
        for w in who_all:
            d = data.get(w, {})
            f.write('"%s" %s %s\n' % (label.get(w, w), d.get("udp_cpu_us_per_q", "-"),
                                     d.get("tcp_cpu_us_per_q", "-")))
    fd, dat2 = tempfile.mkstemp(suffix=".dat")
    with os.fdopen(fd, "w") as f:
        for w in who_all:
            d = data.get(w, {})
            k = lambda key: (d.get(key) / 1000) if d.get(key) is not None else "-"
            f.write('"%s" %s %s %s\n' % (label.get(w, w), k("udp_qps"), k("tcp_qps"), k("miss_qps")))
    floor = data.get("null-batch", {}).get("udp_cpu_us_per_q")
    target = ""
    if floor:
        target = (f'set arrow from graph 0, first {1.15 * floor:.3f} to graph 1, first {1.15 * floor:.3f} '
                  f'nohead dt 2 lw 1.5 lc rgb "#c0392b" front\n'
                  f'set label "target: 1.15 × null (batch) = {1.15 * floor:.2f} µs" right at graph 0.98, '
                  f'first {1.15 * floor:.3f} offset 0,0.7 tc rgb "#c0392b" font ",9" front\n')
    m = data.get("machine", {})
    title = f"fdtool bench, {m.get('date', '')}: {m.get('nproc', '?')} × {m.get('cpu_model', '?')}"
    script = f"""
set terminal pngcairo size 1400,560 font "sans,10"
set output "{prefix}.png"
set datafile missing "-"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key top right
set grid ytics
set multiplot layout 1,2 title "{title}"
set title "server CPU per cache-hit query (µs, lower is better)"
set ylabel "CPU µs per query"
set yrange [0:*]
set xtics rotate by -25
set xrange [-0.6:{len(who_all) - 0.4}]
{target}plot "{dat1}" using 2:xtic(1) title "UDP" lc rgb "#3572b0", \\
     "" using 3 title "TCP" lc rgb "#e0902a", \\
     "" using 0:2:(sprintf("%.2f",$2)) with labels offset -1.5,0.7 font ",8" notitle
unset arrow
unset label
set title "throughput (thousand queries/s, higher is better)"
set ylabel "kQPS"
plot "{dat2}" using 2:xtic(1) title "UDP hit" lc rgb "#3572b0", \\
     "" using 3 title "TCP hit" lc rgb "#e0902a", \\
     "" using 4 title "miss" lc rgb "#59a14f"
unset multiplot
"""
    fd, gp = tempfile.mkstemp(suffix=".gp")
    with os.fdopen(fd, "w") as f:
        f.write(script)
    try:
        r = subprocess.run(["gnuplot", gp], capture_output=True, text=True)
        if r.returncode != 0:
            print("bench: gnuplot failed:\n" + r.stderr, file=sys.stderr)
    finally:
        for p in (dat1, dat2, gp):
            os.unlink(p)


def write_doc(path, notes_path, data, creator, tgts, head, rows, prefix, rows9=(), tgts9=()):
    m, v, p = data.get("machine", {}), data.get("versions", {}), data.get("params", {})
    rel_png = os.path.relpath(prefix + ".png", os.path.dirname(path))
    L = []
    L.append("# Benchmarks\n")
    L.append("<!-- Written by bench/run; edit bench/notes.md and bench/report.py, not this file. -->\n")
    L.append(f"Latest full run: {m.get('date', '?')}, {m.get('wall_s', '?')} s wall clock. "
             f"Raw figures: `bench/results/latest.json` and `.csv`; chart: `bench/results/latest.png`; "
             f"perf profiles of fdtool from the same run: `bench/results/latest-profile.txt`.\n")
    L.append(f"![chart]({rel_png})\n")
    L.append("## The machine\n")
    L.append(f"- {m.get('nproc')} vCPUs: {m.get('cpu_model')}; {m.get('mem_total')} memory")
    L.append(f"- kernel {m.get('kernel')}, {m.get('os')}")
    L.append(f"- load average at start {m.get('loadavg_start')}, at end {m.get('loadavg_end')} "
             "(other work on the machine shows here)")
    for k in ("fdtool", "pdns-recursor", "unbound", "dnsmasq", "nsd", "dnsperf", "gcc"):
        if k in v:
            L.append(f"- {k}: {v[k]}")
    L.append("")
    L.append("## Results\n")
    L.append(f"Zone of {p.get('zone_names', 0):,} names served by NSD; {p.get('hit_names', 0):,} "
             f"warmed, then queried as hits (dnsperf `-c {p.get('clients')} -q {p.get('outstanding')}`, "
             f"{p.get('duration_s')} s each for UDP and TCP); the other names once each as misses. "
             f"Fixed load: {p.get('fixed_qps', 0):,} qps for {p.get('fixed_s')} s, up to "
             f"{p.get('fixed_outstanding', 0):,} queries in flight (so a server that stalls is still "
             "offered the load; a query it never answers counts as slower than 10 ms). "
             "Ratios are fdtool's figure divided by the other's, whatever the direction of better; "
             "*floor* is the batched null responder for the UDP rows and the bare "
             "socket+bind+SCM_RIGHTS hand-over for the creator row; *null plain* is the "
             "one-recvfrom/sendto-per-query responder.\n")
    L.append(md_table(head, rows))
    L.append("")
    if creator:
        L.append("Creator round trips, medians in µs (p90): " + "; ".join(
            f"{'default log level' if k == 'creator' else '--log-level warning'}: fdtool "
            f"{c['fdtool_median_us']} ({c['fdtool_p90_us']}), bare {c['bare_median_us']} "
            f"({c['bare_p90_us']}), ratio {c['ratio_median']}, release {c['release_median_us']}"
            for k, c in creator.items()) + ".\n")
    if rows9:
        L.append("### Issue 9 rows\n")
        L.append(f"Each server is started afresh for each question (four runs of each). *Sequential misses*: "
                 f"{p.get('seq_n', 201)} names never asked before, one query at a time (dnsperf "
                 f"`-c 1 -q 1`), asked in alternating blocks of a healthy and a dead-upstream "
                 f"instance running side by side, at most {p.get('seq_limit_s')} s in all for the "
                 f"dead one; the first miss is given "
                 f"apart, the median is over the other {p.get('seq_n', 201) - 1} (a lost query counts "
                 f"as slower than any answer). Healthy: the upstream is NSD alone; dead: the "
                 f"upstreams are a silent address (reads every query, answers none) and then NSD, "
                 f"each server with its default timeouts. *Bursts*: {p.get('burst_n', 50)} clients "
                 f"(each its own socket and id) ask the same new name at once, "
                 f"{p.get('bursts', 5)} times, through a counting upstream that holds each answer "
                 f"{p.get('proxy_delay_ms', 50)} ms. *DO cache hits*: a zone of "
                 f"{p.get('sig_names', 0):,} names signed with ECDSA P-256 (NSEC), warmed with DO "
                 f"set, then queried as in the UDP cache-hit row with DO set (dnsperf `-D`, "
                 f"{p.get('do_s')} s) through the same counting upstream, which shows whether they "
                 f"were hits; *floor* is the batched null responder's UDP cache-hit figure. *RSS*: "
                 f"caches of {p.get('rss_cache', 150000):,} entries where the server counts entries, "
                 f"{p.get('hit_names', 0):,} names warmed; *cache process* is the process that "
                 f"holds the cache (the target's scope), *process tree* adds its children "
                 f"(fdtool's creator). See the method below for each peer's settings.\n")
        L.append(md_table(head, rows9))
        L.append("")
    L.append("## Targets (issue 5)\n")
    L.append("| target | result | figures |")
    L.append("|---|---|---|")
    for t in tgts:
        L.append(f"| {t['target']} | {'**met**' if t['met'] else '**missed**'} | {t['detail']} |")
    L.append("")
    if tgts9:
        L.append("## Targets (issue 9)\n")
        L.append("| target | result | figures |")
        L.append("|---|---|---|")
        for t in tgts9:
            L.append(f"| {t['target']} | {'**met**' if t['met'] else '**missed**'} | {t['detail']} |")
        L.append("")
    L.append("## How to reproduce\n")
    L.append("As root on Debian 12 with at least 2 CPUs, ports 5398, 5399, 5400, 5401, 5410 and "
             "5411 free on 127.0.0.1 and port 5399 on 127.0.0.2:\n")
    L.append("```sh\nbench/run                  # the full run (10-11 minutes here)\n"
             "bench/run --smoke          # about two minutes: small zone, 1-2 s loads; checks the script still works\n"
             "bench/run --only new       # the issue-9 rows alone, full sizes (about 3 minutes)\n"
             "bench/run --only new --servers fdtool,dnsmasq   # fewer servers\n"
             "FDTOOL_SRC=/tmp/tree bench/run ...   # build and measure another source tree\n"
             "FDTOOL_BIN=/tmp/b/fdtool bench/run ...   # measure a binary as it is\n```\n")
    L.append("It installs what it needs with apt-get (services kept from starting with "
             "`policy-rc.d`), builds fdtool (Release, no sanitizers) into `build-rel/` and the "
             "floors from `bench/`, runs every server in turn, and writes `bench/results/latest.*` "
             "and this file. The other runs write `bench/results/smoke.*`, `new.*`, `old.*` "
             "(or `smoke-new.*`) and leave this file alone.\n")
    if notes_path and os.path.exists(notes_path):
        L.append(open(notes_path).read().rstrip() + "\n")
    with open(path, "w") as f:
        f.write("\n".join(L))


def cmd_report(argv):
    raw = argv[0]
    args = dict(zip(argv[1::2], argv[2::2]))
    prefix = args["--out"]
    data, records = load_raw(raw)
    creator = creator_summary(data)
    derive(data, creator)
    params = data.get("params", {})
    head, rows = build_table(data, ROWS, params)
    _, rows9 = build_table(data, ROWS9, params)
    tgts = targets(data, creator, params)
    tgts9 = targets9(data, params)

    result = {"machine": data.get("machine", {}), "versions": data.get("versions", {}),
              "params": params, "results": {w: data[w] for w in SERVERS + FLOORS if w in data},
              "creator": creator, "targets": tgts, "targets_issue9": tgts9, "raw": records}
    with open(prefix + ".json", "w") as f:
        json.dump(result, f, indent=2, ensure_ascii=False)
        f.write("\n")
    with open(prefix + ".csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["who", "metric", "value"])
        for who in SERVERS + FLOORS:
            for k, val in sorted(data.get(who, {}).items()):
                w.writerow([who, k, val])
        for who, c in creator.items():
            for k, val in c.items():
                if not isinstance(val, list):
                    w.writerow([who, k, val])
    plot(data, prefix)

    if rows:
        print()
        print(text_table(head, rows))
    if rows9:
        print()
        print(text_table(head, rows9))
    print()
    for t in tgts:
        print(f"  [{'met   ' if t['met'] else 'MISSED'}] {t['target']}: {t['detail']}")
    if tgts9:
        print("  issue 9:")
    for t in tgts9:
        print(f"  [{'met   ' if t['met'] else 'MISSED'}] {t['target']}: {t['detail']}")
    print()
    if "--doc" in args:
        write_doc(args["--doc"], args.get("--notes"), data, creator, tgts, head, rows, prefix,
                  rows9, tgts9)


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "parse-dnsperf":
        cmd_parse(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 5 and sys.argv[1] == "latency":
        cmd_latency(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) >= 7 and sys.argv[1] == "seqlat":
        cmd_seqlat(*sys.argv[2:7])
    elif len(sys.argv) >= 4 and sys.argv[1] == "report":
        cmd_report(sys.argv[2:])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
