#!/usr/bin/env python3
"""Render bench/run's raw tables as one markdown report (standard library only).

usage: report.py OUTDIR   (reads results.tsv, idle.tsv, meta.tsv, scenarios.tsv,
                           notes.md, problems.md from OUTDIR; prints markdown)
"""
import os
import statistics
import sys

TARGET_ORDER = ["direct", "pgbouncer", "pgrelay", "pgpool"]


def read_tsv(path):
    if not os.path.exists(path):
        return []
    rows = []
    with open(path) as f:
        header = None
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            fields = line.split("\t")
            if header is None:
                header = fields
                continue
            rows.append(dict(zip(header, fields)))
    return rows


def num(value):
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if v != v else v  # NaN -> None


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=0):
    if v is None:
        return "—"
    return f"{v:,.{digits}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def cpu_per_tx(row):
    cpu, n = num(row.get("proxy_cpu_s")), num(row.get("processed"))
    if cpu is None or not n:
        return None
    return cpu * 1e6 / n


def verdict(value, goal, higher_is_better=True):
    if value is None:
        return "n/a"
    ok = value >= goal if higher_is_better else value <= goal
    return "**PASS**" if ok else "**FAIL**"


def main():
    out = sys.argv[1]
    meta = {}
    for line in open(os.path.join(out, "meta.tsv")) if os.path.exists(os.path.join(out, "meta.tsv")) else []:
        if "\t" in line:
            k, v = line.rstrip("\n").split("\t", 1)
            meta[k] = v
    scenarios = read_tsv(os.path.join(out, "scenarios.tsv"))
    results = read_tsv(os.path.join(out, "results.tsv"))
    idle = read_tsv(os.path.join(out, "idle.tsv"))

    p = print
    p(f"# pgrelay benchmark — {meta.get('timestamp', '?')}")
    p()
    p("| | |")
    p("|---|---|")
    for key in ["machine", "load_before", "load_after", "postgresql", "pgbouncer", "pgpool", "java", "pgrelay_build",
                "pgrelay_java_opts", "pgrelay_workers", "duration", "warmup", "rounds", "order",
                "postgres_settings", "data_dir"]:
        if key in meta:
            p(f"| {key} | {meta[key]} |")
    p()

    # ---- per scenario medians ----
    summary = {}  # (scenario, target) -> dict
    for sc in scenarios:
        name = sc["scenario"]
        if sc["kind"] == "idle":
            continue
        rows = [r for r in results if r["scenario"] == name]
        by_target = {}
        for r in rows:
            by_target.setdefault(r["target"], []).append(r)
        for t, rs in by_target.items():
            rs.sort(key=lambda r: int(r["round"]))
            summary[(name, t)] = {
                "tps": [num(r["tps"]) for r in rs],
                "median": median([num(r["tps"]) for r in rs]),
                "p50": median([num(r["p50_us"]) for r in rs]),
                "p99": median([num(r["p99_us"]) for r in rs]),
                "failed": sum(int(num(r["failed"]) or 0) for r in rs),
                "bad_rc": sum(1 for r in rs if r["rc"] != "0"),
                "mode": ", ".join(sorted({r["mode"] for r in rs})),
                "cpu": median([cpu_per_tx(r) for r in rs]),
            }

    def med(name, target):
        s = summary.get((name, target))
        return s["median"] if s else None

    def p99(name, target):
        s = summary.get((name, target))
        return s["p99"] if s else None

    # ---- targets ----
    p("## Standing targets")
    p()
    p("| target | measured | goal | result |")
    p("|---|---|---|---|")
    names = {sc["scenario"] for sc in scenarios}
    if "select8" in names:
        r = ratio(med("select8", "pgrelay"), med("select8", "pgbouncer"))
        p(f"| select8 (`-S -M simple`, 8 clients): pgrelay ÷ PgBouncer | {fmt(r, 3)}× | ≥ 1.05× | {verdict(r, 1.05)} |")
        r = ratio(med("select8", "pgrelay"), med("select8", "pgpool"))
        p(f"| select8: pgrelay ÷ Pgpool-II | {fmt(r, 3)}× | ≥ 2× | {verdict(r, 2.0)} |")
    for tp in ["tpcb128", "tpcb128-simple"]:
        if tp in names:
            r = ratio(med(tp, "pgrelay"), med(tp, "direct"))
            p(f"| {tp} (128 clients): pgrelay ÷ direct | {fmt(r, 3)}× | ≥ 1.0× | {verdict(r, 1.0)} |")
    lat_source = "latency" if "latency" in names else ("select8" if "select8" in names else None)
    if lat_source:
        a, d = p99(lat_source, "pgrelay"), p99(lat_source, "direct")
        added = a - d if a is not None and d is not None else None
        label = ("latency (rate-limited select-only)" if lat_source == "latency"
                 else "select8 (saturated; indicative only)")
        p(f"| added p99 latency, {label}: p99(pgrelay) − p99(direct) | {fmt(added)} µs | ≤ 150 µs "
          f"| {verdict(added, 150, higher_is_better=False)} |")
    if idle:
        per = median([num(r["rss_per_client_kb"]) for r in idle if r["target"] == "pgrelay"])
        p(f"| memory per idle client (pgrelay, RSS delta ÷ clients) | {fmt(per, 1)} KB | ≤ 20 KB "
          f"| {verdict(per, 20, higher_is_better=False)} |")
    p()

    # ---- scenario tables ----
    for sc in scenarios:
        name = sc["scenario"]
        if sc["kind"] == "idle":
            continue
        p(f"## {name}")
        p()
        p(f"`{sc['command']}`")
        p()
        if sc.get("note"):
            p(sc["note"])
            p()
        p("| target | pool mode | TPS per round | median TPS | ÷ direct | ÷ PgBouncer | p50 µs | p99 µs | proxy CPU µs/tx | failed tx | bad exits |")
        p("|---|---|---|---|---|---|---|---|---|---|---|")
        for t in TARGET_ORDER:
            s = summary.get((name, t))
            if not s:
                continue
            rounds = " / ".join(fmt(v) for v in s["tps"])
            p(f"| {t} | {s['mode']} | {rounds} | {fmt(s['median'])} | {fmt(ratio(s['median'], med(name, 'direct')), 3)} "
              f"| {fmt(ratio(s['median'], med(name, 'pgbouncer')), 3)} | {fmt(s['p50'])} | {fmt(s['p99'])} "
              f"| {fmt(s['cpu'], 1)} | {s['failed']} | {s['bad_rc']} |")
        r_b = ratio(med(name, "pgrelay"), med(name, "pgbouncer"))
        r_d = ratio(med(name, "pgrelay"), med(name, "direct"))
        r_p = ratio(med(name, "pgrelay"), med(name, "pgpool"))
        p()
        p(f"pgrelay ÷ PgBouncer = **{fmt(r_b, 3)}**, pgrelay ÷ direct = **{fmt(r_d, 3)}**, "
          f"pgrelay ÷ Pgpool-II = **{fmt(r_p, 3)}**")
        p()

    if idle:
        sc = next((s for s in scenarios if s["kind"] == "idle"), {})
        p("## idle")
        p()
        if sc:
            p(f"`{sc['command']}`")
            p()
            if sc.get("note"):
                p(sc["note"])
                p()
        p("| target | pool mode | clients | round | RSS before (KB) | RSS with clients (KB) | KB per client (RSS) | live heap before (KB) | live heap with clients (KB) | KB per client (live heap) |")
        p("|---|---|---|---|---|---|---|---|---|---|")
        for t in TARGET_ORDER:
            for r in sorted((r for r in idle if r["target"] == t), key=lambda r: int(r["round"])):
                p(f"| {t} | {r['mode']} | {r['clients']} | {r['round']} | {fmt(num(r['rss0_kb']))} | {fmt(num(r['rss1_kb']))} "
                  f"| {fmt(num(r['rss_per_client_kb']), 1)} | {fmt(num(r['heap0_kb']))} | {fmt(num(r['heap1_kb']))} "
                  f"| {fmt(num(r['heap_per_client_kb']), 1)} |")
        p()
        for t in TARGET_ORDER:
            rs = [r for r in idle if r["target"] == t]
            if rs:
                p(f"- {t}: median {fmt(median([num(r['rss_per_client_kb']) for r in rs]), 1)} KB per idle client (RSS)"
                  + ("" if t != "pgrelay" else
                     f", {fmt(median([num(r['heap_per_client_kb']) for r in rs]), 1)} KB live Java heap"))
        p()

    for title, fname in [("Notes", "notes.md"), ("Problems seen", "problems.md")]:
        path = os.path.join(out, fname)
        if os.path.exists(path) and os.path.getsize(path) > 0:
            p(f"## {title}")
            p()
            p(open(path).read().rstrip())
            p()


if __name__ == "__main__":
    main()
