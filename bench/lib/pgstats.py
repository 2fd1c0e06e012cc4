#!/usr/bin/env python3
"""Helpers for bench/run (standard library only).

  pgstats.py latency [--minus-lag] FILE...   -> "p50_us p99_us count" from pgbench -l logs
  pgstats.py pgbench OUTPUT_FILE             -> "tps failed processed latency_avg_ms"
  pgstats.py heapused  (stdin: jcmd GC.heap_info) -> used heap in KB
  pgstats.py newclient FILE  (pgbench -C output) -> ms to connect and get the first answer
"""
import math
import re
import sys


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return sorted_values[rank - 1]


def latency(args):
    minus_lag = False
    if args and args[0] == "--minus-lag":
        minus_lag = True
        args = args[1:]
    values = []
    for path in args:
        with open(path, "r", errors="replace") as f:
            for line in f:
                # client_id transaction_no time script_no time_epoch time_us [schedule_lag] [retries]
                fields = line.split()
                if len(fields) < 6:
                    continue
                try:
                    t = float(fields[2])
                except ValueError:  # "failed" / "skipped"
                    continue
                if minus_lag and len(fields) >= 7:
                    try:
                        t -= float(fields[6])
                    except ValueError:
                        pass
                values.append(t)
    values.sort()
    if not values:
        print("nan nan 0")
        return
    print("%.0f %.0f %d" % (percentile(values, 50), percentile(values, 99), len(values)))


def pgbench(args):
    text = open(args[0], "r", errors="replace").read()

    def grab(pattern, default="nan"):
        m = re.search(pattern, text, re.MULTILINE)
        return m.group(1) if m else default

    tps = grab(r"^tps = ([0-9.]+)")
    failed = grab(r"^number of failed transactions: ([0-9]+)", "0")
    processed = grab(r"^number of transactions actually processed: ([0-9]+)", "0")
    lat = grab(r"^latency average = ([0-9.]+) ms")
    print(tps, failed, processed, lat)


def heapused(_args):
    total = 0
    for line in sys.stdin:
        if "Metaspace" in line or "class space" in line:
            continue
        for m in re.finditer(r"used ([0-9]+)K", line):
            total += int(m.group(1))
    print(total)


def newclient(args):
    """pgbench -C output: average connection time plus average latency, in ms (a new client's first answer)."""
    text = open(args[0]).read()
    conn = re.search(r"average connection time = ([0-9.]+) ms", text)
    lat = re.search(r"latency average = ([0-9.]+) ms", text)
    print("%.2f" % (float(conn.group(1)) + float(lat.group(1))) if conn and lat else "nan")


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    cmd, rest = sys.argv[1], sys.argv[2:]
    {"latency": latency, "pgbench": pgbench, "heapused": heapused, "newclient": newclient}[cmd](rest)


if __name__ == "__main__":
    main()
