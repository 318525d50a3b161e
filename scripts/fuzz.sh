#!/usr/bin/env bash
# The fuzzers (cargo fuzz + libFuzzer), one per reader of untrusted bytes: see fuzz/README.md.
#
#   scripts/fuzz.sh seed                      write the seed inputs (made by carnet) into fuzz/corpus/
#   scripts/fuzz.sh run SECONDS [TARGET...]   fuzz each target for SECONDS (all targets by default),
#                                             one after the other; findings are copied to
#                                             fuzz/regressions/TARGET/ and the time is logged in
#                                             fuzz/LOG.tsv (wall seconds and the CPU seconds the
#                                             fuzzer really had, which is what `hours` counts)
#   scripts/fuzz.sh cmin [TARGET...]          shrink the corpora to the inputs that add coverage
#   scripts/fuzz.sh hours                     the CPU time each target has had in all (fuzz/LOG.tsv)
#
# Installs cargo-fuzz (pinned) into .tools/cargo-fuzz the first time. Works on the stable toolchain: no sanitizer
# (`-s none`), so what it finds is panics, aborts, timeouts and memory blow-ups, which is what
# safe Rust can do wrong. env: FUZZ_NICE (default 10) lowers the fuzzers' priority.
# The test command replays the corpora and findings (tests/integration/fuzz_corpora.rs).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"
ALL=(unbake_png unbake_svg jws cbor jsonld_rdf csv referentiel)
NICE="${FUZZ_NICE:-10}"

die() { echo "fuzz.sh: $*" >&2; exit 1; }
CARGO_FUZZ_VERSION=0.13.2
need_cargo_fuzz() {
  export PATH="$ROOT/.tools/cargo-fuzz/bin:$PATH"
  if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
    echo "fuzz.sh: installing cargo-fuzz $CARGO_FUZZ_VERSION into .tools/cargo-fuzz" >&2
    nice -n "$NICE" cargo install --locked --root "$ROOT/.tools/cargo-fuzz" \
      --version "$CARGO_FUZZ_VERSION" cargo-fuzz >&2 || die "cargo-fuzz did not install"
  fi
}

case "${1:-}" in
  seed)
    cargo test --test integration fuzz_corpora::write_seeds -- --ignored --exact
    ;;
  run)
    need_cargo_fuzz
    seconds="${2:?usage: scripts/fuzz.sh run SECONDS [TARGET...]}"
    shift 2
    targets=("$@")
    [ "${#targets[@]}" -gt 0 ] || targets=("${ALL[@]}")
    (cd fuzz && nice -n "$NICE" cargo fuzz build -s none 2>&1 | tail -3) \
      || die "the fuzzers do not build"
    for t in "${targets[@]}"; do
      mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t" "fuzz/regressions/$t"
      started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
      start_s="$(date +%s)"
      log="fuzz/artifacts/$t/run.log"
      echo "== $t: $seconds s"
      set +e
      cpu_file="fuzz/artifacts/$t/cpu"
      (cd fuzz && nice -n "$NICE" /usr/bin/time -f '%U %S' -o "../$cpu_file" \
        cargo fuzz run -s none "$t" "corpus/$t" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=262144 \
        -print_final_stats=1) >"$log" 2>&1
      rc=$?
      wall=$(($(date +%s) - start_s))
      # User + system seconds of the fuzzer: less than the wall time when the machine is shared.
      cpu="$(awk 'NF == 2 && $1 ~ /^[0-9.]+$/ { printf "%d", $1 + $2 }' "$cpu_file" 2>/dev/null || true)"
      set -e
      execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)"
      findings=0
      for a in fuzz/artifacts/"$t"/crash-* fuzz/artifacts/"$t"/timeout-* fuzz/artifacts/"$t"/oom-* fuzz/artifacts/"$t"/leak-*; do
        [ -e "$a" ] || continue
        cp "$a" "fuzz/regressions/$t/"
        findings=$((findings + 1))
        rm "$a"
      done
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$started" "$t" "$wall" "${execs:-0}" "$findings" \
        "${cpu:-0}" >> fuzz/LOG.tsv
      echo "   exit $rc, ${execs:-0} runs, ${cpu:-0} CPU seconds, $findings findings (log: $log)"
      [ "$findings" = 0 ] || echo "   FINDINGS copied to fuzz/regressions/$t/: fix them, keep them"
    done
    ;;
  cmin)
    need_cargo_fuzz
    shift
    targets=("$@")
    [ "${#targets[@]}" -gt 0 ] || targets=("${ALL[@]}")
    for t in "${targets[@]}"; do
      (cd fuzz && nice -n "$NICE" cargo fuzz cmin -s none "$t" "corpus/$t" -- -max_len=262144)
    done
    ;;
  hours)
    [ -f fuzz/LOG.tsv ] || die "no fuzz/LOG.tsv yet"
    # Columns: start, target, wall seconds, runs, findings, CPU seconds.
    printf "%-12s %9s %10s %12s %8s\n" target "CPU hours" "wall hours" runs findings
    awk -F'\t' '{ c[$2] += $6; w[$2] += $3; n[$2] += $4; f[$2] += $5 }
      END { for (t in c) printf "%-12s %9.2f %10.2f %12d %8d\n", t, c[t] / 3600, w[t] / 3600, n[t], f[t] }' \
      "$ROOT/fuzz/LOG.tsv" | sort
    ;;
  *)
    sed -n '2,16p' "${BASH_SOURCE[0]}"
    exit 2
    ;;
esac
