#!/usr/bin/env bash
# reg's benchmark harness: times reg against the standard tools on the same files in the same
# run, and prints each ratio with its target (the targets are DESIGN.md's, quoted in the README).
#
# Usage: examples/bench.sh [--quick]
#   BENCH_MIB   size of the large model in MiB (default 1024; --quick: 256)
#   BENCH_RUNS  timed runs per command (default 5; --quick: 3)
#   BENCH_DIR   scratch directory (default: a new one under $TMPDIR, removed at the end)
#
# It installs what it needs if missing: hyperfine, age and GNU time from Debian; the current
# b3sum and rage (the age crate's own CLI) with cargo install; the Python package (a release
# build, `pip install ./python`) into the virtual environment target/pyenv. The machine is
# shared and noisy: every figure is a median of several runs, and ratios compare commands run
# side by side.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mib=${BENCH_MIB:-1024}
runs=${BENCH_RUNS:-5}
if [ "${1:-}" = "--quick" ]; then mib=${BENCH_MIB:-256}; runs=${BENCH_RUNS:-3}; fi

need_apt=()
command -v hyperfine >/dev/null || need_apt+=(hyperfine)
command -v age >/dev/null || need_apt+=(age)
[ -x /usr/bin/time ] || need_apt+=(time)
if [ ${#need_apt[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get install -y --no-install-recommends "${need_apt[@]}" >/dev/null
fi
cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
# Debian's b3sum 1.2 is slower than the current one; compare with the best standard tool.
if ! "$cargo_bin/b3sum" --version 2>/dev/null | grep -qE '^b3sum 1\.([5-9]|[1-9][0-9])'; then
  cargo install --quiet --locked b3sum
fi
[ -x "$cargo_bin/rage" ] || cargo install --quiet --locked rage
B3SUM="$cargo_bin/b3sum"
RAGE="$cargo_bin/rage"

cargo build --quiet --release --manifest-path "$top/Cargo.toml" --bin reg --example scale
REG="$top/target/release/reg"
SCALE="$top/target/release/examples/scale"
models=${BENCH_MODELS:-10000}
entries=${BENCH_ENTRIES:-100000}
drift_models=1000
observations=${BENCH_OBSERVATIONS:-100000}
if [ "${1:-}" = "--quick" ]; then
  models=${BENCH_MODELS:-1000}; entries=${BENCH_ENTRIES:-10000}
  drift_models=100; observations=${BENCH_OBSERVATIONS:-10000}
fi

work=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/reg-bench.XXXXXX")}
[ -n "${BENCH_DIR:-}" ] || trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work"
cd "$work"
export REG_TRUST_FILE="$work/trust.json"
# Each timed add starts from a copy of the same empty registry: a host record of the previous
# run's checkpoint would (rightly) call that copy a rollback, so the record is reset with it.
export REG_STATE_DIR="$work/host-state-add"

echo "reg benchmark: ${mib} MiB model, ${runs} runs each, $(nproc) cores, in $work"
echo "tools: $("$B3SUM" --version), $("$RAGE" --version 2>&1 | head -1), age $(age --version)"

# Keys, an empty registry kept as a template, and the bundles: plain and age-encrypted.
"$REG" key gen root.pem >/dev/null 2>&1
"$REG" key gen op.pem >/dev/null 2>&1
"$REG" key gen pub.pem >/dev/null 2>&1
mkdir template
"$REG" init template --root-key root.pem >/dev/null
"$REG" --registry template key trust op.pem.pub --role operator --key root.pem --reason bench >/dev/null
"$REG" --registry template key trust pub.pem.pub --role publisher --key root.pem --reason bench >/dev/null
age-keygen -o site.key 2>/dev/null
recipient=$(age-keygen -y site.key)

make_model() { # DIR MIB
  mkdir -p "$1"
  head -c "$(($2 * 1024 * 1024))" /dev/urandom > "$1/weights.bin"
}
make_model big "$mib"
make_model small 64
"$REG" bundle pack big -o big.tar --key pub.pem --name big --version 1.0.0 --type LLM --use generation --description "benchmark model" >/dev/null
"$REG" bundle pack big -o big.age --key pub.pem --name big --version 1.0.0 --type LLM --use generation --description "benchmark model" --recipient "$recipient" >/dev/null
"$REG" bundle pack small -o small.tar --key pub.pem --name small --version 1.0.0 --type ML --use detection --description "benchmark model" >/dev/null

fresh='chmod -R u+w reg 2>/dev/null; rm -rf reg G "$REG_STATE_DIR"; cp -a template reg; sync'
median() { # JSON FILE, command index
  python3 -c "import json,statistics,sys; r=json.load(open(sys.argv[1]))['results'][int(sys.argv[2])]; print(statistics.median(r['times']))" "$1" "$2"
}
rows=()
row() { # WORK REG_S BASE_S BASE_NAME [TARGET (max ratio); none: reported only]
  local ratio verdict target
  ratio=$(python3 -c "print(f'{$2/$3:.2f}')")
  if [ -n "${5:-}" ]; then
    target="<= $5 x"
    verdict=$(python3 -c "print('met' if $2/$3 <= $5 else 'MISSED')")
  else
    target="(reported)"; verdict="-"
  fi
  rows+=("$(printf '| %s | %.2f s | %.2f s (%s) | %s x | %s | %s |' "$1" "$2" "$3" "$4" "$ratio" "$target" "$verdict")")
}

echo; echo "== plain bundle: reg add vs b3sum + cp + sync of the artifact"
hyperfine --style basic --runs "$runs" --prepare "$fresh" --export-json plain.json \
  -n "reg add" "$REG --registry reg add big.tar --key op.pem" \
  -n "b3sum + cp + sync" "$B3SUM big/weights.bin && cp big/weights.bin G && sync G" >/dev/null
row "reg add, ${mib} MiB plain tar" "$(median plain.json 0)" "$(median plain.json 1)" "b3sum + cp + sync" 1.3

echo "== encrypted bundle: reg add vs rage -d + sync (and Go age -d + sync)"
hyperfine --style basic --runs "$runs" --prepare "$fresh" --export-json enc.json \
  -n "reg add" "$REG --registry reg add big.age --key op.pem -i site.key" \
  -n "rage -d + sync" "$RAGE -d -i site.key -o G big.age && sync G" \
  -n "age -d + sync" "age -d -i site.key -o G big.age && sync G" >/dev/null
row "reg add, ${mib} MiB age-encrypted" "$(median enc.json 0)" "$(median enc.json 1)" "rage -d + sync" 1.2
row "reg add, ${mib} MiB age-encrypted" "$(median enc.json 0)" "$(median enc.json 2)" "Go age -d + sync"

echo "== peak memory of reg add (must not grow with model size)"
peak() { # BUNDLE -> KiB
  sh -c "$fresh"
  /usr/bin/time -f '%M' -o rss.txt "$REG" --registry reg add "$1" --key op.pem >/dev/null
  cat rss.txt
}
small_kib=$(peak small.tar)
big_kib=$(peak big.tar)

echo "== fsck over the store vs b3sum over the same files; the load gate vs b3sum of the file"
"$REG" --registry reg promote big@1.0.0 --reason "benchmark gate" --key op.pem >/dev/null
hyperfine --style basic --runs "$runs" --warmup 1 --export-json verify-store.json \
  -n "reg fsck" "$REG --registry reg fsck" \
  -n "b3sum objects" "$B3SUM reg/.registry/objects/*/*" >/dev/null
row "reg fsck, store with a ${mib} MiB model" "$(median verify-store.json 0)" "$(median verify-store.json 1)" "b3sum over the objects" 1.2
hyperfine --style basic --runs "$runs" --warmup 1 --export-json gate.json \
  -n "reg check" "$REG --registry reg check big/weights.bin" \
  -n "b3sum" "$B3SUM big/weights.bin" >/dev/null
row "reg check, ${mib} MiB file" "$(median gate.json 0)" "$(median gate.json 1)" "b3sum of the file" 1.25
# The gate from Python (the reg-governance package, a release build in target/pyenv): a
# process that opens the registry and gets the verified file, against `reg check` of it.
pyenv="$top/target/pyenv"
[ -x "$pyenv/bin/python" ] || python3 -m venv "$pyenv"
"$pyenv/bin/pip" install --quiet "$top/python"
hyperfine --style basic --runs "$runs" --warmup 1 --export-json pygate.json \
  -n "open_verified" "$pyenv/bin/python -c 'from reg_governance import Registry; Registry.open(\"reg\").open_verified(\"big/weights.bin\").close()'" \
  -n "reg check" "$REG --registry reg check big/weights.bin" \
  -n "Python check" "$pyenv/bin/python -c 'from reg_governance import Registry; Registry.open(\"reg\").check(\"big/weights.bin\")'" >/dev/null
row "Python open_verified, ${mib} MiB file" "$(median pygate.json 0)" "$(median pygate.json 1)" "reg check of the file" 1.1
# What the private copy costs: the same decision from Python without it.
row "Python check, ${mib} MiB file" "$(median pygate.json 2)" "$(median pygate.json 1)" "reg check of the file"

echo "== transfer: a new ${mib} MiB model carried to a replica holding $((10 * mib)) MiB of models"
# Home site: ten other models of the same size, then a replica copy of it (its own host record,
# as a copy at another site has), then the new model at home, exported since the replica's
# checkpoint and imported there. Baseline: b3sum of the transfer file, the bytes carried (the
# issue's target), and b3sum + cp + sync of it: an export or import writes those bytes durably,
# which hashing alone does not, so the second is the floor a durable copy can reach.
export REG_STATE_DIR="$work/host-state-home"
cp -a template home
for i in 0 1 2 3 4 5 6 7 8 9; do
  make_model "filler-$i" "$mib"
  "$REG" bundle pack "filler-$i" -o filler.tar --key pub.pem --name "filler-$i" --version 1.0.0 --type ML --use detection --description "benchmark filler" >/dev/null
  "$REG" --registry home add filler.tar --key op.pem >/dev/null
  rm -rf "filler-$i" filler.tar
done
cp -a home replica-t
cp -a "$REG_STATE_DIR" host-state-replica-t
"$REG" --registry home add big.tar --key op.pem >/dev/null
hyperfine --style basic --runs "$runs" --prepare "rm -f inc.regx" --export-json export.json \
  -n "reg export" "$REG --registry home export inc.regx --since replica-t/.registry/checkpoint" >/dev/null
[ -f inc.regx ] || "$REG" --registry home export inc.regx --since replica-t/.registry/checkpoint >/dev/null
# Each import starts from the same replica: objects hard-linked (they are immutable), the files
# an import changes copied, and the replica's own host record reset with it.
replica_fresh='chmod -R u+w replica 2>/dev/null; rm -rf replica host-state-replica; cp -al replica-t replica; for f in ledger checkpoint lock index/state.json; do rm -f replica/.registry/$f; cp replica-t/.registry/$f replica/.registry/$f; done; cp -a host-state-replica-t host-state-replica; sync'
hyperfine --style basic --runs "$runs" --prepare "$replica_fresh" --export-json import.json \
  -n "reg import" "REG_STATE_DIR=$work/host-state-replica $REG --registry replica import inc.regx" \
  -n "b3sum" "$B3SUM inc.regx" \
  -n "b3sum + cp + sync" "$B3SUM inc.regx && cp inc.regx G && sync G" >/dev/null
hyperfine --style basic --runs "$runs" --warmup 1 --export-json transfer-b3.json -n "b3sum" "$B3SUM inc.regx" >/dev/null
transfer_mib=$(( $(stat -c %s inc.regx) / 1024 / 1024 ))
row "reg export, ${transfer_mib} MiB transfer" "$(median export.json 0)" "$(median transfer-b3.json 0)" "b3sum of the transfer" 1.3
row "reg export, ${transfer_mib} MiB transfer" "$(median export.json 0)" "$(median import.json 2)" "b3sum + cp + sync"
row "reg import, ${transfer_mib} MiB into $((10 * mib)) MiB" "$(median import.json 0)" "$(median import.json 1)" "b3sum of the transfer" 1.3
row "reg import, ${transfer_mib} MiB into $((10 * mib)) MiB" "$(median import.json 0)" "$(median import.json 2)" "b3sum + cp + sync"
# What one import reads, from its system calls: about the transfer, not the replica's store.
sh -c "$replica_fresh"
REG_STATE_DIR="$work/host-state-replica" strace -f -qq -e trace=read,pread64,readv -e signal=none -o reads.txt \
  "$REG" --registry replica import inc.regx >/dev/null
read_mib=$(awk '{ n = $NF; if (n ~ /^[0-9]+$/) s += n } END { printf "%.0f", s / 1048576 }' reads.txt)
store_mib=$(du -sm replica-t/.registry/objects | cut -f1)
transfer_line="reg import read ${read_mib} MiB for a ${transfer_mib} MiB transfer into a replica whose store holds ${store_mib} MiB (target: about the transfer)"
export REG_STATE_DIR="$work/host-state-add"

echo "== metadata at ${models} models / ${entries} ledger entries (built through batch commits)"
export REG_STATE_DIR="$work/host-state"
"$SCALE" big-registry "$models" "$entries"
big="--registry big-registry"
model=$(printf 'model-%05d@1.0.0' $((models / 2)))
# One --prepare per command, in order: only the promote needs its model deprecated first.
hyperfine --style basic --runs "$runs" --warmup 1 --export-json meta.json \
  --prepare "$REG $big deprecate $model --reason bench --key big-registry/op.pem" \
  --prepare true --prepare true --prepare true \
  -n "reg promote" "$REG $big promote $model --reason bench --key big-registry/op.pem" \
  -n "reg show" "$REG $big show $model" \
  -n "reg status" "$REG $big status" \
  -n "reg list --json" "$REG $big list --json" >/dev/null
hyperfine --style basic --runs 3 --export-json verify.json -n "reg ledger verify" "$REG $big ledger verify" >/dev/null
echo "== drift list at ${observations} observations over ${drift_models} models"
"$SCALE" drift-registry "$drift_models" "$((drift_models + 4))" "$observations"
drift_model=$(printf 'model-%05d@1.0.0' $((drift_models / 2)))
hyperfine --style basic --runs "$runs" --warmup 1 --export-json drift.json \
  -n "reg drift list" "$REG --registry drift-registry drift list $drift_model --json" >/dev/null
meta_rows=()
meta_row() { # NAME MEDIAN_S TARGET_S
  meta_rows+=("$(python3 -c "m=$2; t=$3; print(f'| $1 | {m*1000:.0f} ms | < {t*1000:.0f} ms | ' + ('met' if m < t else 'MISSED') + ' |')")")
}
meta_row "reg promote" "$(median meta.json 0)" 0.1
meta_row "reg show" "$(median meta.json 1)" 0.1
meta_row "reg status" "$(median meta.json 2)" 0.1
meta_row "reg list --json" "$(median meta.json 3)" 1.0
meta_row "reg drift list ($((observations / drift_models)) of ${observations} observations)" "$(median drift.json 0)" 0.1
verify_s=$(median verify.json 0)
ledger_entries=$(( $(wc -l < big-registry/.registry/ledger) ))
verify_row=$(python3 -c "r=$ledger_entries/$verify_s; print(f'| reg ledger verify ({$ledger_entries} entries) | {$verify_s:.2f} s = {r:,.0f} entries/s | >= 25,000 entries/s | ' + ('met' if r >= 25000 else 'MISSED') + ' |')")

echo
echo "| work | reg (median) | baseline (median) | ratio | target | verdict |"
echo "| --- | --- | --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
echo
mem_verdict=$(python3 -c "print('met' if $big_kib <= 1.25 * $small_kib else 'MISSED')")
echo "peak RSS of reg add: 64 MiB model ${small_kib} KiB, ${mib} MiB model ${big_kib} KiB (target: no growth with size): ${mem_verdict}"
echo "$transfer_line"
echo
echo "| command at ${models} models | median | target | verdict |"
echo "| --- | --- | --- | --- |"
printf '%s\n' "${meta_rows[@]}"
echo "$verify_row"
