#!/usr/bin/env bash
# reg's benchmark harness: times reg against the standard tools on the same files in the same
# run, and prints every row of issue #24's table with its target and a met/MISSED verdict, then
# the rows kept from earlier issues, then a growth table (a lifecycle write, show, status, check
# and ledger verify at 1,000, 10,000 and 100,000 models).
#
# Usage: examples/bench.sh [--quick]
#   BENCH_MIB    size of the model `check` reads, and of each of the 3 models of the store that
#                fsck, export and clone read (default 1024: a 3 GiB store; --quick: 256)
#   BENCH_ADD_MIB  size of the model `add` ingests (default 256; --quick: 64)
#   BENCH_RUNS   timed runs per command (default 5; --quick: 3)
#   BENCH_GROWTH sizes of the growth table, in models (default "1000 10000 100000";
#                --quick: "1000 10000")
#   BENCH_VERIFY_MODELS / BENCH_VERIFY_ENTRIES  the registry ledger verify and fsck are timed on
#                (default 20000 / 60000; --quick: 2000 / 6000)
#   BENCH_DIR    scratch directory (default: a new one under $TMPDIR, removed at the end)
# A full run takes about 25 minutes on 2 cores and needs about 7 GiB of free disk in BENCH_DIR
# (twice the store: what is no longer needed is removed as the run goes).
#
# How it measures. Every figure is a median (hyperfine's runs, BENCH_RUNS of them), and each
# baseline is timed in the same hyperfine call as reg, so that reg and the tool run in turn
# and share whatever the rest of the machine is doing (it is shared and noisy). Ratios are
# reg's median over the baseline's median. Writes start from the same state each time:
# `add` from a fresh copy of one empty registry (and this host's record reset with it: a kept
# record would rightly call the copy a rollback); `import` and `clone` from a fresh replica or
# an absent destination; a lifecycle write of the growth table is `deprecate` of a model that
# the untimed --prepare step has just promoted, so that every timed write starts from the same
# model state at the same registry size (the ledger grows by two entries per run, 0.02 % of the
# smallest registry). The large registries are built once per run by examples/scale.rs through
# the library's real batch commit, under eatmydata (their setup is not what is measured: fsync
# is made a no-op while they are built, then everything is synced once before any timing).
#
# It installs what it needs if missing: hyperfine, age, GNU time and eatmydata from Debian; the
# current b3sum and rage (the age crate's own CLI) with cargo install; the Python package (a
# release build, `pip install ./python`) into the virtual environment target/pyenv.
set -Eeuo pipefail
# The whole script is one block, read before it runs: editing the file during a run (or a
# checkout changing it) cannot make bash execute a mix of two versions.
{

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
quick=""
if [ "${1:-}" = "--quick" ]; then quick=1; elif [ -n "${1:-}" ]; then
  echo "usage: examples/bench.sh [--quick]" >&2; exit 2
fi
mib=${BENCH_MIB:-${quick:+256}}; mib=${mib:-1024}
add_mib=${BENCH_ADD_MIB:-${quick:+64}}; add_mib=${add_mib:-256}
runs=${BENCH_RUNS:-${quick:+3}}; runs=${runs:-5}
growth=${BENCH_GROWTH:-${quick:+1000 10000}}; growth=${growth:-1000 10000 100000}
verify_models=${BENCH_VERIFY_MODELS:-${quick:+2000}}; verify_models=${verify_models:-20000}
verify_entries=${BENCH_VERIFY_ENTRIES:-${quick:+6000}}; verify_entries=${verify_entries:-60000}
small_models=1000
drift_models=${quick:+100}; drift_models=${drift_models:-1000}
observations=${BENCH_OBSERVATIONS:-${quick:+10000}}; observations=${observations:-100000}

# Whatever fails stops the run with the failing line: a figure from a failed command is no figure.
trap 'echo "bench.sh: FAILED at line $LINENO: $BASH_COMMAND" >&2' ERR

need_apt=()
command -v hyperfine >/dev/null || need_apt+=(hyperfine)
command -v age >/dev/null || need_apt+=(age)
command -v eatmydata >/dev/null || need_apt+=(eatmydata)
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

cargo build --quiet --release --manifest-path "$top/Cargo.toml" --bin reg --example scale --example ed25519_rate
REG="$top/target/release/reg"
SCALE="$top/target/release/examples/scale"
ED25519_RATE="$top/target/release/examples/ed25519_rate"

work=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/reg-bench.XXXXXX")}
[ -n "${BENCH_DIR:-}" ] || trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work"
cd "$work"
export REG_TRUST_FILE="$work/trust.json"
export REG_STATE_DIR="$work/host-state-add"
started=$(date +%s)

echo "reg benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'), $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?')):"
echo "  check ${mib} MiB; store of 3 x ${mib} MiB; add ${add_mib} MiB; ${runs} runs each; growth at ${growth// /, } models"
echo "  machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  disk: $(findmnt -no SOURCE,FSTYPE -T "$work" | tr -s ' '), $(df -h --output=size "$work" | tail -1 | tr -d ' ') ($(cat "/sys/block/$(basename "$(findmnt -no SOURCE -T "$work")")/queue/rotational" 2>/dev/null | sed 's/1/reported rotational/;s/0/reported non-rotational/'))"
echo "  tools: $("$B3SUM" --version), $("$RAGE" --version 2>&1 | head -1), age $(age --version), $(hyperfine --version)"

# --- helpers --------------------------------------------------------------------------------
median() { # JSON FILE, command index -> seconds
  python3 -c "import json,statistics,sys; r=json.load(open(sys.argv[1]))['results'][int(sys.argv[2])]; print(statistics.median(r['times']))" "$1" "$2"
}
# A duration for people: ms below 10 s.
dur() { python3 -c "import sys; s=float(sys.argv[1]); print(f'{s*1000:.0f} ms' if s < 10 else f'{s:.1f} s')" "$1"; }
rows=()    # issue #24's table
extra=()   # rows kept from earlier issues
verdicts=()
# A verdict line: `| row | reg | baseline | ratio | target | met/MISSED |`.
# TABLE: extra, or main:N with N the row's place in the issue's table.
line() { # TABLE ROW REG BASELINE RATIO TARGET VERDICT
  local l="| $2 | $3 | $4 | $5 | $6 | $7 |"
  if [ "$1" = extra ]; then extra+=("$l"); else rows+=("${1#main:}	$l"); fi
  [ "$7" = "-" ] || verdicts+=("$7")
}
# A ratio row: reg against a baseline timed in the same hyperfine call.
ratio_row() { # TABLE ROW REG_S BASE_S BASE_NAME [MAX_RATIO; none: reported only]
  local ratio verdict target
  ratio=$(python3 -c "print(f'{$3/$4:.2f} x')")
  if [ -n "${6:-}" ]; then
    target="<= $6 x"; verdict=$(python3 -c "print('met' if $3/$4 <= $6 else 'MISSED')")
  else
    target="(reported)"; verdict="-"
  fi
  line "$1" "$2" "$(dur "$3")" "$5, $(dur "$4")" "$ratio" "$target" "$verdict"
}
# Every file of a registry copied, except the objects, which are hard-linked: they are
# immutable (read-only, replaced only by rename), so a copy costs no store-sized write and the
# original is never changed through the link, whatever else the format keeps beside them.
copy_registry() { # SRC DEST
  mkdir "$2"
  tar -C "$1" --exclude=./.registry/objects -cf - . | tar -C "$2" -xf -
  cp -al "$1/.registry/objects" "$2/.registry/objects"
}
# Builds a registry of N models and E entries with examples/scale.rs (fsync a no-op while it
# runs, then one sync), with its own host record; prints scale's line.
build_registry() { # DIR MODELS ENTRIES [OBSERVATIONS]
  REG_STATE_DIR="$work/host-$1" eatmydata "$SCALE" "$1" "$2" "$3" "${4:-0}"
  sync
}
make_model() { # DIR MIB
  mkdir -p "$1"
  head -c "$(($2 * 1024 * 1024))" /dev/urandom > "$1/weights.bin"
}
pack() { # DIR OUT NAME [--recipient R]
  local dir=$1 out=$2 name=$3; shift 3
  "$REG" bundle pack "$dir" -o "$out" --key pub.pem --name "$name" --version 1.0.0 --type LLM --use generation --description "benchmark model" "$@" >/dev/null
}

# --- keys, an empty registry kept as a template, the models ---------------------------------
"$REG" key gen root.pem >/dev/null 2>&1
"$REG" key gen op.pem >/dev/null 2>&1
"$REG" key gen pub.pem >/dev/null 2>&1
mkdir template
"$REG" init template --root-key root.pem >/dev/null
"$REG" --registry template key trust op.pem.pub --role operator --key root.pem --reason bench >/dev/null
"$REG" --registry template key trust pub.pem.pub --role publisher --key root.pem --reason bench >/dev/null
root_fpr=$("$REG" key fingerprint root.pem.pub)
age-keygen -o site.key 2>/dev/null
recipient=$(age-keygen -y site.key)

make_model addm "$add_mib"
make_model small 64
pack addm add.tar addm
pack addm add.age addm --recipient "$recipient"
pack small small.tar small

fresh='chmod -R u+w reg 2>/dev/null; rm -rf reg G "$REG_STATE_DIR"; cp -a template reg; sync'

echo; echo "== reg add, ${add_mib} MiB plain tar vs b3sum + cp + sync of the tar"
hyperfine --style basic --runs "$runs" --prepare "$fresh" --export-json plain.json \
  -n "reg add" "$REG --registry reg add add.tar --key op.pem" \
  -n "b3sum + cp + sync" "$B3SUM add.tar && cp add.tar G && sync G" >/dev/null
ratio_row main:3 "\`reg add\`, ${add_mib} MiB plain tar" "$(median plain.json 0)" "$(median plain.json 1)" "b3sum + cp + sync of the tar" 1.15

echo "== reg add, ${add_mib} MiB age-encrypted vs Go age -d + b3sum + sync (and rage -d + sync)"
hyperfine --style basic --runs "$runs" --prepare "$fresh" --export-json enc.json \
  -n "reg add" "$REG --registry reg add add.age --key op.pem -i site.key" \
  -n "age -d + b3sum + sync" "age -d -i site.key -o G add.age && $B3SUM G && sync G" \
  -n "rage -d + sync" "$RAGE -d -i site.key -o G add.age && sync G" >/dev/null
ratio_row main:4 "\`reg add\`, ${add_mib} MiB age-encrypted" "$(median enc.json 0)" "$(median enc.json 1)" "Go age -d + b3sum + sync" 1.0
ratio_row extra "reg add, ${add_mib} MiB age-encrypted" "$(median enc.json 0)" "$(median enc.json 2)" "rage -d + sync" 1.2

# --- the store of 3 models: check, fsck, export, clone, import ------------------------------
echo "== a store of 3 x ${mib} MiB (home) and a replica holding the first 2"
export REG_STATE_DIR="$work/host-state-home"
cp -a template home
for i in 0 1; do
  make_model "filler-$i" "$mib"
  pack "filler-$i" filler.tar "filler-$i"
  "$REG" --registry home add filler.tar --key op.pem >/dev/null
  rm -rf "filler-$i" filler.tar
done
copy_registry home replica-t
cp -a "$REG_STATE_DIR" host-state-replica-t
make_model big "$mib"
pack big big.tar big
"$REG" --registry home add big.tar --key op.pem >/dev/null
"$REG" --registry home promote big@1.0.0 --reason "benchmark gate" --key op.pem >/dev/null
sync

echo "== peak memory of reg add (must not grow with model size)"
peak() { # BUNDLE -> KiB
  REG_STATE_DIR="$work/host-state-add" sh -c "$fresh"
  REG_STATE_DIR="$work/host-state-add" /usr/bin/time -f '%M' -o rss.txt "$REG" --registry reg add "$1" --key op.pem >/dev/null
  cat rss.txt
}
small_kib=$(peak small.tar)
big_kib=$(peak big.tar)
chmod -R u+w reg 2>/dev/null || true
rm -rf big.tar small.tar small addm add.tar add.age reg G

echo "== reg check of ${mib} MiB vs b3sum; reg fsck of the store vs b3sum of the objects"
hyperfine --style basic --runs "$runs" --warmup 1 --export-json gate.json \
  -n "reg check" "$REG --registry home check big/weights.bin" \
  -n "b3sum" "$B3SUM big/weights.bin" >/dev/null
ratio_row main:1 "\`reg check\` of a ${mib} MiB file" "$(median gate.json 0)" "$(median gate.json 1)" "b3sum of the file" 1.1
store_mib=$(du -sm home/.registry/objects | cut -f1)
hyperfine --style basic --runs "$runs" --warmup 1 --export-json fsck-store.json \
  -n "reg fsck" "$REG --registry home fsck" \
  -n "b3sum objects" "$B3SUM home/.registry/objects/*/*" >/dev/null
ratio_row main:2 "\`reg fsck\`, store of ${store_mib} MiB" "$(median fsck-store.json 0)" "$(median fsck-store.json 1)" "b3sum of the objects" 1.15

# The gate from Python (the reg-governance package, a release build in target/pyenv): a
# process that opens the registry and gets the verified file, against `reg check` of it.
pyenv="$top/target/pyenv"
[ -x "$pyenv/bin/python" ] || python3 -m venv "$pyenv"
"$pyenv/bin/pip" install --quiet "$top/python"
hyperfine --style basic --runs "$runs" --warmup 1 --export-json pygate.json \
  -n "open_verified" "$pyenv/bin/python -c 'from reg_governance import Registry; Registry.open(\"home\").open_verified(\"big/weights.bin\").close()'" \
  -n "reg check" "$REG --registry home check big/weights.bin" \
  -n "Python check" "$pyenv/bin/python -c 'from reg_governance import Registry; Registry.open(\"home\").check(\"big/weights.bin\")'" >/dev/null
ratio_row extra "Python open_verified, ${mib} MiB file" "$(median pygate.json 0)" "$(median pygate.json 1)" "reg check of the file" 1.1
# What the private copy costs: the same decision from Python without it.
ratio_row extra "Python check, ${mib} MiB file" "$(median pygate.json 2)" "$(median pygate.json 1)" "reg check of the file"
rm -rf big


echo "== transfer: the new ${mib} MiB model carried to the replica holding the other $((2 * mib)) MiB"
# Exported since the replica's checkpoint and imported there. Baseline: b3sum of the transfer
# file, the bytes carried, and b3sum + cp + sync of it: an export or import writes those bytes
# durably, which hashing alone does not, so the second is the floor a durable copy can reach.
hyperfine --style basic --runs "$runs" --prepare "rm -f inc.regx" --export-json export.json \
  -n "reg export" "$REG --registry home export inc.regx --since replica-t/.registry/checkpoint" >/dev/null
[ -f inc.regx ] || "$REG" --registry home export inc.regx --since replica-t/.registry/checkpoint >/dev/null
# Each import starts from the same replica (copy_registry: objects hard-linked, the rest
# copied) with the replica's own host record reset with it.
replica_fresh="chmod -R u+w replica 2>/dev/null; rm -rf replica host-state-replica G; $(declare -f copy_registry); copy_registry replica-t replica; cp -a host-state-replica-t host-state-replica; sync"
hyperfine --style basic --runs "$runs" --prepare "$replica_fresh" --export-json import.json \
  -n "reg import" "REG_STATE_DIR=$work/host-state-replica $REG --registry replica import inc.regx" \
  -n "b3sum" "$B3SUM inc.regx" \
  -n "b3sum + cp + sync" "$B3SUM inc.regx && cp inc.regx G && sync G" >/dev/null
hyperfine --style basic --runs "$runs" --warmup 1 --export-json transfer-b3.json -n "b3sum" "$B3SUM inc.regx" >/dev/null
transfer_mib=$(( $(stat -c %s inc.regx) / 1024 / 1024 ))
ratio_row extra "reg export, ${transfer_mib} MiB transfer" "$(median export.json 0)" "$(median transfer-b3.json 0)" "b3sum of the transfer" 1.3
ratio_row extra "reg export, ${transfer_mib} MiB transfer" "$(median export.json 0)" "$(median import.json 2)" "b3sum + cp + sync"
ratio_row extra "reg import, ${transfer_mib} MiB into $((2 * mib)) MiB" "$(median import.json 0)" "$(median import.json 1)" "b3sum of the transfer" 1.3
ratio_row extra "reg import, ${transfer_mib} MiB into $((2 * mib)) MiB" "$(median import.json 0)" "$(median import.json 2)" "b3sum + cp + sync"
# What one import reads, from its system calls: about the transfer, not the replica's store.
sh -c "$replica_fresh"
REG_STATE_DIR="$work/host-state-replica" strace -f -qq -e trace=read,pread64,readv -e signal=none -o reads.txt \
  "$REG" --registry replica import inc.regx >/dev/null
read_mib=$(awk '{ n = $NF; if (n ~ /^[0-9]+$/) s += n } END { printf "%.0f", s / 1048576 }' reads.txt)
replica_mib=$(du -sm replica-t/.registry/objects | cut -f1)
transfer_line="reg import read ${read_mib} MiB for a ${transfer_mib} MiB transfer into a replica whose store holds ${replica_mib} MiB (target: about the transfer)"
chmod -R u+w replica replica-t 2>/dev/null || true
rm -rf replica replica-t inc.regx G


echo "== reg export, full (${store_mib} MiB) vs cat of the objects + sync; reg clone from it vs b3sum + cp + sync"
hyperfine --style basic --runs "$runs" --prepare "rm -f full.regx G; sync" --export-json export-full.json \
  -n "reg export" "$REG --registry home export full.regx" \
  -n "cat objects + sync" "cat home/.registry/objects/*/* > G && sync G" >/dev/null
ratio_row main:5 "\`reg export\`, ${store_mib} MiB full" "$(median export-full.json 0)" "$(median export-full.json 1)" "cat of the objects + sync" 1.15
[ -f full.regx ] || "$REG" --registry home export full.regx >/dev/null
full_mib=$(( $(stat -c %s full.regx) / 1024 / 1024 ))
chmod -R u+w home 2>/dev/null || true
rm -rf G home
# Each clone makes a new registry on a host that has never seen it (its own host record).
hyperfine --style basic --runs "$runs" --prepare "chmod -R u+w cloned 2>/dev/null; rm -rf cloned G host-state-clone; sync" --export-json clone.json \
  -n "reg clone" "REG_STATE_DIR=$work/host-state-clone $REG --trust $root_fpr clone full.regx cloned" \
  -n "b3sum + cp + sync" "$B3SUM full.regx && cp full.regx G && sync G" >/dev/null
ratio_row main:6 "\`reg clone\` from that file (${full_mib} MiB)" "$(median clone.json 0)" "$(median clone.json 1)" "b3sum + cp + sync of the file" 1.15
chmod -R u+w cloned 2>/dev/null || true
rm -rf cloned G full.regx host-state-clone


# --- signatures: ledger verify and fsck at verify_models models / verify_entries entries -----
echo "== ledger verify and fsck at ${verify_models} models / ${verify_entries} entries"
build_registry vreg "$verify_models" "$verify_entries"
build_registry small-reg "$small_models" "$((small_models + small_models / 10))"
export REG_STATE_DIR="$work/host-vreg"
v="--registry vreg"
# A signature per ledger entry and per model record (its signed manifest).
ledger_entries=$(wc -l < vreg/.registry/ledger)
signatures=$((ledger_entries + verify_models))
# The ceiling: one core's strict verifications per second, measured before and after the runs.
rate1=$("$ED25519_RATE" 2)
hyperfine --style basic --runs "$runs" --warmup 1 --export-json verify.json \
  -n "reg ledger verify" "$REG $v ledger verify" \
  -n "reg fsck" "$REG $v fsck" >/dev/null
rate2=$("$ED25519_RATE" 2)
/usr/bin/time -f '%M' -o rss-verify.txt "$REG" $v ledger verify >/dev/null
/usr/bin/time -f '%M' -o rss-fsck.txt "$REG" $v fsck >/dev/null
verify_s=$(median verify.json 0)
fsck_s=$(median verify.json 1)
read -r per_core share verdict < <(python3 -c "
r=($rate1+$rate2)/2; s=$signatures/$verify_s; p=100*s/(2*r)
print(f'{r:.0f} {p:.0f} ' + ('met' if p >= 80 else 'MISSED'))")
line main:9 "\`reg ledger verify\`, ${verify_models} models / ${ledger_entries} entries ($signatures signatures)" \
  "$(dur "$verify_s"), $(python3 -c "print(f'{$signatures/$verify_s:,.0f}')") signatures/s, peak RSS $(( $(cat rss-verify.txt) / 1024 )) MiB" \
  "strict ed25519 verify (examples/ed25519_rate), $(python3 -c "print(f'{$per_core:,.0f}')")/s per core" \
  "${share} % of 2 cores" ">= 80 % of 2 cores" "$verdict"
ratio_row main:10 "\`reg fsck\`, same registry (peak RSS $(( $(cat rss-fsck.txt) / 1024 )) MiB)" "$fsck_s" "$verify_s" "reg ledger verify" 1.15
# The ledger rate of the earlier table.
line extra "reg ledger verify ($ledger_entries entries)" "$(dur "$verify_s"), $(python3 -c "print(f'{$ledger_entries/$verify_s:,.0f}')") entries/s" "-" "-" ">= 25,000 entries/s" \
  "$(python3 -c "print('met' if $ledger_entries/$verify_s >= 25000 else 'MISSED')")"

echo "== status / show / list --json at ${small_models} and ${verify_models} models"
read_times() { # DIR MODEL JSON
  REG_STATE_DIR="$work/host-$1" hyperfine --style basic --runs "$((runs * 2))" --warmup 1 --export-json "$3" \
    -n "status" "$REG --registry $1 status" \
    -n "show" "$REG --registry $1 show $2" \
    -n "list --json" "$REG --registry $1 list --json" >/dev/null
}
read_times small-reg "$(printf 'model-%05d@1.0.0' $((small_models / 3)))" reads-small.json
read_times vreg "$(printf 'model-%05d@1.0.0' $((verify_models / 3)))" reads-big.json
for i in 0 1 2; do
  name=$(python3 -c "print(['status','show','list --json'][$i])")
  a=$(median reads-small.json $i); b=$(median reads-big.json $i)
  line main:11 "\`$name\`, ${small_models} -> ${verify_models} models" "$(dur "$a") -> $(dur "$b")" "-" \
    "$(python3 -c "print(f'{$b/$a:.1f} x')")" "flat, < 30 ms" "$(python3 -c "print('met' if max($a, $b) < 0.030 else 'MISSED')")"
done
# The earlier table's metadata rows, at the same registry: a lifecycle write (deprecate of
# model 1, which scale leaves DEPRECATED and in no slot, each run prepared by an untimed
# promote of it), and the reads.
pmodel=$(printf 'model-%05d@1.0.0' 1)
hyperfine --style basic --runs "$runs" --export-json lifecycle-v.json \
  --prepare "$REG $v promote $pmodel --reason bench --key vreg/op.pem" \
  -n "reg deprecate" "$REG $v deprecate $pmodel --reason bench --key vreg/op.pem" >/dev/null
abs_row() { # ROW MEDIAN_S TARGET_S
  line extra "$1" "$(dur "$2")" "-" "-" "< $(dur "$3")" "$(python3 -c "print('met' if $2 < $3 else 'MISSED')")"
}
abs_row "reg deprecate at ${verify_models} models" "$(median lifecycle-v.json 0)" 0.1
abs_row "reg show at ${verify_models} models" "$(median reads-big.json 1)" 0.1
abs_row "reg status at ${verify_models} models" "$(median reads-big.json 0)" 0.1
abs_row "reg list --json at ${verify_models} models" "$(median reads-big.json 2)" 1.0

echo "== drift list at ${observations} observations over ${drift_models} models"
build_registry drift-registry "$drift_models" "$((drift_models + 4))" "$observations"
drift_model=$(printf 'model-%05d@1.0.0' $((drift_models / 2)))
REG_STATE_DIR="$work/host-drift-registry" hyperfine --style basic --runs "$runs" --warmup 1 --export-json drift.json \
  -n "reg drift list" "$REG --registry drift-registry drift list $drift_model --json" >/dev/null
abs_row "reg drift list ($((observations / drift_models)) of ${observations} observations)" "$(median drift.json 0)" 0.1
chmod -R u+w drift-registry vreg 2>/dev/null || true
rm -rf drift-registry vreg

# --- growth: the same commands at 1,000, 10,000 and 100,000 models --------------------------
# Each registry: N models (one artifact each), the first tenth promoted (N/10 more entries),
# 20 slots. check: the artifact of model 1 (promoted: ALLOW). The lifecycle write: deprecate
# of model N/2 (registered at build), each run prepared by an untimed promote of it.
growth_rows=()
lifecycle=()
for n in $growth; do
  echo "== growth: ${n} models"
  d="g$n"
  build_registry "$d" "$n" "$((n + n / 10))"
  export REG_STATE_DIR="$work/host-$d"
  lmodel=$(printf 'model-%05d@1.0.0' $((n / 2)))
  smodel=$(printf 'model-%05d@1.0.0' $((n / 3)))
  printf 'rule scale_1 { condition: true }\n' > "art-$d.yar"
  "$REG" --registry "$d" check "art-$d.yar" >/dev/null # ALLOW, or the run stops here
  hyperfine --style basic --runs "$((runs * 2))" --export-json "life-$d.json" \
    --prepare "$REG --registry $d promote $lmodel --reason bench --key $d/op.pem" \
    -n "deprecate" "$REG --registry $d deprecate $lmodel --reason bench --key $d/op.pem" >/dev/null
  hyperfine --style basic --runs "$((runs * 2))" --warmup 1 --export-json "grow-$d.json" \
    -n "show" "$REG --registry $d show $smodel" \
    -n "status" "$REG --registry $d status" \
    -n "check" "$REG --registry $d check art-$d.yar" >/dev/null
  hyperfine --style basic --runs 3 --warmup 1 --export-json "gverify-$d.json" \
    -n "ledger verify" "$REG --registry $d ledger verify" >/dev/null
  /usr/bin/time -f '%M' -o "rss-$d.txt" "$REG" --registry "$d" ledger verify >/dev/null
  life=$(median "life-$d.json" 0)
  lifecycle+=("$n:$life")
  growth_rows+=("| $(python3 -c "print(f'{$n:,}')") | $(dur "$life") | $(dur "$(median "grow-$d.json" 0)") | $(dur "$(median "grow-$d.json" 1)") | $(dur "$(median "grow-$d.json" 2)") | $(dur "$(median "gverify-$d.json" 0)"), $(( $(cat "rss-$d.txt") / 1024 )) MiB |")
  # Not removed here: deleting 400,000 small files takes minutes on a busy disk; the report
  # comes first, the cleanup at exit after it (or never, with BENCH_DIR).
done
# The issue's lifecycle row: < 20 ms at every size, and the largest within 2 x of the smallest.
life_text=$(printf '%s\n' "${lifecycle[@]}" | python3 -c "
import sys
p=[l.strip().split(':') for l in sys.stdin if l.strip()]
print('; '.join(f'{int(n):,}: {float(s)*1000:.0f} ms' for n, s in p))")
life_max=$(printf '%s\n' "${lifecycle[@]}" | python3 -c "import sys; print(max(float(l.split(':')[1]) for l in sys.stdin if l.strip()))")
line main:7 "lifecycle write (deprecate), ${growth// / / } models" "$life_text" "-" "-" "< 20 ms at every size" \
  "$(python3 -c "print('met' if $life_max < 0.020 else 'MISSED')")"
first=${lifecycle[0]}; last=${lifecycle[${#lifecycle[@]}-1]}
line main:8 "lifecycle write, ${last%%:*} vs ${first%%:*} models" "$(dur "${last#*:}")" "$(dur "${first#*:}") at ${first%%:*} models" \
  "$(python3 -c "print(f'{${last#*:}/${first#*:}:.1f} x')")" "<= 2 x" "$(python3 -c "print('met' if ${last#*:} <= 2 * ${first#*:} else 'MISSED')")"

# --- report ---------------------------------------------------------------------------------
echo
echo "## Issue #24's table (medians; reg and its baseline timed in turn in one hyperfine call)"
echo
echo "| work | reg | baseline | ratio | target | verdict |"
echo "| --- | --- | --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}" | sort -n -k1,1 | cut -f2-
echo
echo "## Earlier rows"
echo
echo "| work | reg | baseline | ratio | target | verdict |"
echo "| --- | --- | --- | --- | --- | --- |"
printf '%s\n' "${extra[@]}"
mem_verdict=$(python3 -c "print('met' if $big_kib <= 1.25 * $small_kib else 'MISSED')")
verdicts+=("$mem_verdict")
echo
echo "peak RSS of reg add: 64 MiB model ${small_kib} KiB, ${mib} MiB model ${big_kib} KiB (target: no growth with size): ${mem_verdict}"
echo "$transfer_line"
echo
echo "## Growth (medians; lifecycle: deprecate, each run prepared by an untimed promote; ledger verify: median of 3, peak RSS of one more run)"
echo
echo "| models | lifecycle write | show | status | check | ledger verify, peak RSS |"
echo "| --- | --- | --- | --- | --- | --- |"
printf '%s\n' "${growth_rows[@]}"
echo
met=$(printf '%s\n' "${verdicts[@]}" | grep -c '^met$' || true)
missed=$(printf '%s\n' "${verdicts[@]}" | grep -c '^MISSED$' || true)
echo "summary: ${met} targets met, ${missed} missed ($(( ($(date +%s) - started) / 60 )) min run)"
exit
}
