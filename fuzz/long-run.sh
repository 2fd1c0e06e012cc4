#!/usr/bin/env bash
# The long fuzzing run (docs/fuzzing.md): every fuzz target in turn, each in its own JVM (Jazzer
# fuzzes one @FuzzTest per JVM) for SECONDS seconds, pinned to one CPU core. Leak detection samples
# (Netty's "advanced" level) instead of tracking every buffer, which would cost ten times the
# fuzzing itself; the harnesses still check the reference count of every buffer they feed and
# receive, and a sampled leak report is counted below. Prints one line per target with libFuzzer's
# final statistics; the full logs go to fuzz/long-run/. New corpus entries stay in each module's
# .cifuzz-corpus/ (ignored by git); crashes land in the target's inputs directory, where they become
# regression tests.
#
#   fuzz/long-run.sh [SECONDS [CORE [MODULE:TEST#METHOD...]]]   (default: all targets below)
set -euo pipefail
seconds=${1:-300}
core=${2:-0}
shift 2 || true
cd "$(dirname "$0")/.."
mkdir -p fuzz/long-run

all_targets=(
  "protocol-pg StartupPacketDecoderFuzzTest#startupPackets"
  "protocol-pg FrameDecoderFuzzTest#frames"
  "protocol-pg FrameScannerFuzzTest#scan"
  "protocol-pg MessageDecodeFuzzTest#frontend"
  "protocol-pg MessageDecodeFuzzTest#backend"
  "protocol-pg ScramFuzzTest#server"
  "protocol-pg ScramFuzzTest#client"
  "proxy-core ClientConnectionFuzzTest#connection"
)
if [ $# -gt 0 ]; then
  targets=("${@/:/ }")
else
  targets=("${all_targets[@]}")
fi

printf '%-50s %12s %9s %6s %6s %8s %5s\n' target inputs exec/s cov ft seconds leaks
for entry in "${targets[@]}"; do
  module=${entry%% *}
  test=${entry#* }
  log="fuzz/long-run/${test//#/.}.log"
  # protocol-pg depends on no other module; proxy-core needs it (and test-kit) from the reactor.
  extra=()
  if [ "$module" = proxy-core ]; then
    extra+=(-am -Dlogback.configurationFile=logback-fuzz.xml)
  fi
  start=$(date +%s)
  status=ok
  taskset -c "$core" mvn -B -Dstyle.color=never -pl "$module" test \
    -Dtest="$test" -Dsurefire.failIfNoSpecifiedTests=false \
    -DJAZZER_FUZZ=1 -Djazzer.hooks=true '-Djazzer.instrument=io.pgrelay.**' \
    -Djazzer.internal.arg.0=fuzz "-Djazzer.internal.arg.1=-max_total_time=$seconds" \
    -Djazzer.internal.arg.2=-print_final_stats=1 \
    -Djunit.jupiter.extensions.autodetection.enabled=false \
    "-Dtest.jvm.args=-Dio.netty.leakDetection.level=advanced -Xss1m -XX:+UseSerialGC -XX:ActiveProcessorCount=1" \
    "${extra[@]}" > "$log" 2>&1 || status=FAILED
  end=$(date +%s)
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo "?")
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo "?")
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(echo "$last" | grep -o 'cov: [0-9]*' | grep -o '[0-9]*' || echo "?")
  ft=$(echo "$last" | grep -o 'ft: [0-9]*' | grep -o '[0-9]*' || echo "?")
  leaks=$(grep -c 'LEAK:' "$log" || true)
  printf '%-50s %12s %9s %6s %6s %8s %5s %s\n' "$module/$test" "$runs" "$rate" "$cov" "$ft" "$((end - start))" "$leaks" "$status"
done
