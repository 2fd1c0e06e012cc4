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

    def stat(name, target, key):
        s = summary.get((name, target))
        return s[key] if s else None

    # ---- targets ----
    p("## Targets")
    p()
    p("| target | measured | goal | result |")
    p("|---|---|---|---|")
    names = {sc["scenario"] for sc in scenarios}

    def row(label, value, goal_text, goal, digits=3, higher_is_better=True, unit="×"):
        p(f"| {label} | {fmt(value, digits)}{unit} | {goal_text} | {verdict(value, goal, higher_is_better)} |")

    if "select8" in names:
        row("select8 (`-S -M simple`, 8 clients): pgrelay ÷ PgBouncer",
            ratio(med("select8", "pgrelay"), med("select8", "pgbouncer")), "≥ 1.05×", 1.05)
        row("select8: pgrelay ÷ Pgpool-II", ratio(med("select8", "pgrelay"), med("select8", "pgpool")), "≥ 2×", 2.0)
    for sc in ["select8-extended", "select8-prepared"]:
        if sc in names:
            row(f"{sc}: pgrelay ÷ PgBouncer", ratio(med(sc, "pgrelay"), med(sc, "pgbouncer")), "≥ 1.0×", 1.0)
    for tp in ["tpcb128", "tpcb128-simple"]:
        if tp in names:
            row(f"{tp} (128 clients): pgrelay ÷ direct", ratio(med(tp, "pgrelay"), med(tp, "direct")), "≥ 1.0×", 1.0)
            row(f"{tp}: pgrelay ÷ PgBouncer", ratio(med(tp, "pgrelay"), med(tp, "pgbouncer")), "≥ 1.2×", 1.2)
    for sc in ["latency", "latency-steady", "tpcb128"]:
        if sc in names:
            relay, bouncer = stat(sc, "pgrelay", "cpu"), stat(sc, "pgbouncer", "cpu")
            p(f"| {sc}: proxy CPU per transaction, pgrelay vs PgBouncer | {fmt(relay, 1)} µs vs {fmt(bouncer, 1)} µs "
              f"| ≤ PgBouncer's | {verdict(ratio(relay, bouncer), 1.0, higher_is_better=False)} |")
    for sc in ["latency", "latency-steady"]:
        if sc not in names:
            continue
        d50, d99 = stat(sc, "direct", "p50"), stat(sc, "direct", "p99")

        def added(target, key, base, sc=sc):
            v = stat(sc, target, key)
            return v - base if v is not None and base is not None else None

        relay50, bouncer50 = added("pgrelay", "p50", d50), added("pgbouncer", "p50", d50)
        ok = None if relay50 is None or bouncer50 is None else (1.0 if relay50 <= bouncer50 else 0.0)
        p(f"| {sc} (fixed rate): added p50, pgrelay vs PgBouncer | {fmt(relay50)} µs vs {fmt(bouncer50)} µs "
          f"| ≤ PgBouncer's | {verdict(ok, 1.0)} |")
        p(f"| {sc}: added p99 (reported, not a target: scheduler noise) | pgrelay {fmt(added('pgrelay', 'p99', d99))} µs, "
          f"PgBouncer {fmt(added('pgbouncer', 'p99', d99))} µs | — | — |")
    startup_path = os.path.join(out, "startup.tsv")
    if os.path.exists(startup_path):
        starts = [num(line.split("\t")[1]) for line in open(startup_path) if "\t" in line]
        if starts:
            row(f"pgrelay start to listening (median of {len(starts)} starts)", median(starts), "≤ 1,500 ms", 1500, 0,
                False, " ms")
    if idle:
        rs = [r for r in idle if r["target"] == "pgrelay"]
        clients = rs[0]["clients"] if rs else "?"
        mode = rs[0]["mode"] if rs else "?"
        per = median([num(r["rss_per_client_kb"]) for r in rs])
        heap = median([num(r["heap_per_client_kb"]) for r in rs])
        new = median([num(r.get("new_client_ms")) for r in rs])
        row(f"idle ({clients} clients, {mode} mode): pgrelay RSS per client", per, "≤ 5 KB", 5, 1, False, " KB")
        row(f"idle: pgrelay live heap per client", heap, "≤ 5 KB", 5, 1, False, " KB")
        row(f"idle: a new client's connect + first answer while they stay (pgrelay)", new, "< 10 ms", 10, 2, False, " ms")
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
        p("| target | pool mode | clients | round | RSS before (KB) | RSS with clients (KB) | KB per client (RSS) | live heap before (KB) | live heap with clients (KB) | KB per client (live heap) | new client (ms) |")
        p("|---|---|---|---|---|---|---|---|---|---|---|")
        for t in TARGET_ORDER:
            for r in sorted((r for r in idle if r["target"] == t), key=lambda r: int(r["round"])):
                p(f"| {t} | {r['mode']} | {r['clients']} | {r['round']} | {fmt(num(r['rss0_kb']))} | {fmt(num(r['rss1_kb']))} "
                  f"| {fmt(num(r['rss_per_client_kb']), 1)} | {fmt(num(r['heap0_kb']))} | {fmt(num(r['heap1_kb']))} "
                  f"| {fmt(num(r['heap_per_client_kb']), 1)} | {fmt(num(r.get('new_client_ms')), 2)} |")
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
