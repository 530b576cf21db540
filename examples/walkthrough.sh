#!/usr/bin/env bash
# The reg walkthrough: generated keys, a new registry, trusted roles, a publisher's signed and
# encrypted model bundle admitted by an operator, its lifecycle and active slot, the load gate,
# drift observations, the validator, the signed ledger, and what happens when someone tampers
# with a bundle or with a registry copied to removable media. docs/GUIDE.md is its transcript.
#
# Usage: examples/walkthrough.sh [WORKDIR]   (default: a fresh temporary directory, kept for a look)
# Builds reg with cargo first. Uses only reg, coreutils and grep.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cargo build --quiet --manifest-path "$top/Cargo.toml" --bin reg
# Where cargo put it: CARGO_TARGET_DIR when set (relative to here, as cargo reads it).
target=${CARGO_TARGET_DIR:-$top/target}
case $target in /*) ;; *) target="$PWD/$target" ;; esac
REG_BIN="$target/debug/reg"

work=${1:-$(mktemp -d "${TMPDIR:-/tmp}/reg-walkthrough.XXXXXX")}
mkdir -p "$work"
cd "$work"
# Keep this walkthrough's host pins and records out of the user's own.
export REG_TRUST_FILE="$work/host/trust.json"
export REG_STATE_DIR="$work/host/state"
# A fixed clock: the same walkthrough gives the same times (keys are new each run).
export SOURCE_DATE_EPOCH=1767225600
export NO_COLOR=1

step() { printf '\n== %s\n' "$*"; }
reg() { printf '$ reg %s\n' "$*"; "$REG_BIN" "$@"; }
# A command that must fail: show its error, and stop the walkthrough if it did not fail.
refused() {
  printf '$ reg %s\n' "$*"
  if "$REG_BIN" "$@"; then
    echo "walkthrough: expected this command to be refused" >&2
    exit 1
  fi
}

step "1. Keys: a root key (kept offline), an operator, a publisher and a reporter"
mkdir -p keys
reg key gen keys/root.pem
reg key gen keys/operator.pem
reg key gen keys/publisher.pem
reg key gen keys/reporter.pem

step "2. A registry whose genesis entry is signed by the root key; this host pins it"
reg init site-a --root-key keys/root.pem
cd site-a

step "3. The root key trusts the other keys, each for one role"
reg key trust ../keys/operator.pem.pub --role operator --name "alice, duty operator" --key ../keys/root.pem --reason "site A duty operator"
reg key trust ../keys/publisher.pem.pub --role publisher --name "model engineering" --key ../keys/root.pem --reason "model engineering team"
reg key trust ../keys/reporter.pem.pub --role reporter --name "monitoring" --key ../keys/root.pem --reason "monitoring pipeline"
reg key list

step "4. Only a root key may change trust"
refused key trust ../keys/reporter.pem.pub --role operator --key ../keys/operator.pem --reason "self-promotion"

step "5. Key rotation: a second root key; a lost laptop's key is revoked and can sign nothing more"
reg key gen ../keys/root2.pem
reg key trust ../keys/root2.pem.pub --role root --key ../keys/root.pem --reason "second root for rotation"
reg key gen ../keys/laptop.pem
reg key trust ../keys/laptop.pem.pub --role operator --key ../keys/root.pem --reason "field laptop"
reg key revoke "$("$REG_BIN" key fingerprint ../keys/laptop.pem.pub)" --key ../keys/root2.pem --reason "laptop lost in transit"
refused key trust ../keys/publisher.pem.pub --role reporter --key ../keys/laptop.pem --reason "signed after revocation"

step "6. The site's age identity: publishers encrypt bundles to its recipient (root-signed)"
reg key gen --age ../keys/site-a.age
reg recipients set "$(grep -o 'age1[0-9a-z]*' ../keys/site-a.age)" --key ../keys/root.pem --reason "site A bundle decryption key"
reg recipients list

step "7. The publisher packs a small sample model, signed, encrypted to the site"
cd ..
mkdir -p sample-model/tokenizer
# A tiny safetensors file: an 8-byte little-endian header length, a JSON header, the tensor data.
header='{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}'
{ printf "\\x$(printf %02x ${#header})\\x00\\x00\\x00\\x00\\x00\\x00\\x00"; printf '%s' "$header"; head -c 16 /dev/zero; } > sample-model/model.safetensors
printf '{"vocab":["<s>","</s>","ransom","note"]}' > sample-model/tokenizer/vocab.json
printf '{"threshold":0.92}' > sample-model/config.json
recipient=$("$REG_BIN" --registry site-a recipients list)
reg bundle pack sample-model -o detector-1.0.0.tar.age --key keys/publisher.pem \
  --name ransomware-detector --version 1.0.0 --type DL --use classification --use anomaly-detection \
  --description "Classifies process behaviour as ransomware or benign" --framework "pytorch 2.3" \
  --label team=dfir --provenance telemetry-2026q3=sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 \
  --recipient "$recipient"

step "8. The operator checks the bundle, then admits it: signature first, then every artifact hash"
reg bundle verify detector-1.0.0.tar.age --publisher keys/publisher.pem.pub --identity keys/site-a.age
cd site-a
reg add ../detector-1.0.0.tar.age --key ../keys/operator.pem --identity ../keys/site-a.age
reg add ../detector-1.0.0.tar.age --key ../keys/operator.pem --identity ../keys/site-a.age
reg list

step "9. A bundle altered on the way is refused, naming the file; nothing is written"
cd ..
"$REG_BIN" bundle pack sample-model -o detector-1.0.1.tar --key keys/publisher.pem --name ransomware-detector \
  --version 1.0.1 --type DL --use classification --description "patched" >/dev/null
offset=$(grep -abo '"threshold"' detector-1.0.1.tar | tail -1 | cut -d: -f1)
printf '"THRESHOLD"' | dd of=detector-1.0.1.tar bs=1 seek="$offset" conv=notrunc status=none
refused --registry site-a add detector-1.0.1.tar --key keys/operator.pem
cd site-a

step "10. Lifecycle: explicit, signed, reasoned moves; a slot names the active model"
refused deprecate ransomware-detector@1.0.0 --reason "not yet approved" --key ../keys/operator.pem
reg promote ransomware-detector@1.0.0 --reason "passed red-team evaluation" --key ../keys/operator.pem
reg activate ransomware-classifier ransomware-detector@1.0.0 --reason "go live on site A" --key ../keys/operator.pem
reg status
reg show ransomware-detector@1.0.0

step "11. The load gate: only bytes of the slot's active model pass; every decision is logged"
cd ..
reg --registry site-a check --slot ransomware-classifier --log gate.log sample-model/model.safetensors
cp sample-model/model.safetensors tampered.safetensors
printf '\001' | dd of=tampered.safetensors bs=1 seek=70 conv=notrunc status=none
refused --registry site-a check --slot ransomware-classifier --log gate.log tampered.safetensors
reg --registry site-a check --verify-log gate.log

step "12. Drift: the reporter records an observation (stored and signed, nothing computed)"
reg --registry site-a drift record ransomware-detector@1.0.0 "$top/examples/drift-observation.json" --key keys/reporter.pem
reg --registry site-a drift list ransomware-detector@1.0.0

step "13. The validator: every object, entry, record, ref; and no unregistered model on the host"
mkdir -p host-models
cp sample-model/model.safetensors host-models/
reg --registry site-a fsck --scan host-models
cp tampered.safetensors host-models/shadow.safetensors
refused --registry site-a fsck --scan host-models
rm host-models/shadow.safetensors
reg --registry site-a checkout --slot ransomware-classifier -o deployed
reg --registry site-a verify ransomware-detector@1.0.0

step "14. The audit ledger: every action is one signed, hash-chained entry"
cd site-a
reg log ransomware-detector@1.0.0
reg ledger verify
echo '$ reg ledger export > ../ledger.jsonl'
"$REG_BIN" ledger export > ../ledger.jsonl
echo "exported $(wc -l < ../ledger.jsonl) entries, one JSON line each, for an external audit ledger"

step "15. The registry travels on removable media: an exact copy verifies"
cd ..
cp -r site-a usb-copy
reg --registry usb-copy ledger verify

step "16. A second host receives the medium: its gate denies until the registry is pinned"
# Site A prints its head as a short code, to read out by phone with the root fingerprint.
printf '$ reg --registry site-a status --code\n'
code=$("$REG_BIN" --registry site-a status --code 2>/dev/null)
echo "$code"
(
  # Another host: its own trust file and records, with no pin for this registry yet.
  export REG_TRUST_FILE="$work/host2/trust.json" REG_STATE_DIR="$work/host2/state"
  refused --registry usb-copy check --slot ransomware-classifier sample-model/model.safetensors
  # The registry's owner reads the root fingerprint out by phone: `reg key fingerprint root.pem.pub`,
  # and the head code: this host will refuse any medium whose history does not contain it.
  fingerprint=$("$REG_BIN" key fingerprint keys/root.pem.pub)
  reg --registry usb-copy trust add "$fingerprint" --head "$code"
  reg --registry usb-copy check --slot ransomware-classifier sample-model/model.safetensors
)

step "17. Site A moves on; the medium's site imports only what is new, from its own checkpoint"
reg --registry site-a deprecate ransomware-detector@1.0.0 --reason "1.1 under evaluation" --key keys/operator.pem
# The receiving site's checkpoint travels back on the medium: site A exports only what it lacks.
echo '$ cp usb-copy/.registry/checkpoint site-b.checkpoint'
cp usb-copy/.registry/checkpoint site-b.checkpoint
reg --registry site-a export update-1.regx --since site-b.checkpoint
reg export --verify update-1.regx
(
  export REG_TRUST_FILE="$work/host2/trust.json" REG_STATE_DIR="$work/host2/state"
  reg --registry usb-copy import update-1.regx --dry-run
  reg --registry usb-copy import update-1.regx
  reg --registry usb-copy status
  # The same file carried in again later: this site already has that history, nothing to do.
  reg --registry usb-copy import update-1.regx
)

step "18. Version 1.1: @latest names the newest, diff says what changed, the slot keeps its history"
cp -r sample-model sample-model-1.1
printf '{"threshold":0.88}' > sample-model-1.1/config.json
reg bundle pack sample-model-1.1 -o detector-1.1.0.tar.age --key keys/publisher.pem \
  --name ransomware-detector --version 1.1.0 --type DL --use classification --use anomaly-detection \
  --description "Classifies process behaviour as ransomware or benign" --framework "pytorch 2.3" \
  --label team=dfir --provenance telemetry-2026q3=sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 \
  --owner "DFIR model team" --license "internal use only" --recipient "$recipient"
reg --registry site-a add detector-1.1.0.tar.age --key keys/operator.pem --identity keys/site-a.age
reg --registry site-a list
reg --registry site-a diff ransomware-detector@1.0.0 ransomware-detector@latest
reg --registry site-a promote ransomware-detector@latest --reason "1.1 passed red-team evaluation" --key keys/operator.pem
reg --registry site-a activate ransomware-classifier ransomware-detector@latest --reason "roll 1.1 out on site A" --key keys/operator.pem
reg --registry site-a log --slot ransomware-classifier
reg --registry site-a show --card ransomware-detector@latest

step "19. Site C is a replica made by reg clone: it cannot fork, and its drift goes home in an outbox"
reg --registry site-a export site-a-full.regx
(
  # A third host, pinned by the clone itself to the root fingerprint read out of band.
  export REG_TRUST_FILE="$work/host3/trust.json" REG_STATE_DIR="$work/host3/state"
  reg clone site-a-full.regx site-c --trust "$("$REG_BIN" key fingerprint keys/root.pem.pub)"
  refused --registry site-c drift record ransomware-detector@latest "$top/examples/drift-observation.json" --key keys/reporter.pem
  reg --registry site-c drift record --slot ransomware-classifier "$top/examples/drift-observation.json" --key keys/reporter.pem --outbox
  reg --registry site-c drift export site-c-drift.regd
)
reg --registry site-a drift import site-c-drift.regd --key keys/operator.pem
reg --registry site-a log ransomware-detector@latest -n 2

step "20. Someone with the medium flips one byte of a ledger entry: caught, and named"
entry=$(sed -n 3p usb-copy/.registry/ledger)
object="usb-copy/.registry/objects/${entry:0:2}/${entry:2}"
chmod u+w "$object"
printf 'X' | dd of="$object" bs=1 seek=40 conv=notrunc status=none
refused --registry usb-copy ledger verify

step "21. Someone replaces the whole registry with one of their own keys: the host pin refuses it"
rm -rf usb-copy
mkdir -p attacker && (cd attacker && "$REG_BIN" key gen evil-root.pem >/dev/null 2>&1 &&
  REG_TRUST_FILE="$work/attacker/trust.json" "$REG_BIN" init forged --root-key evil-root.pem >/dev/null)
chmod -R u+w site-a/.registry && rm -rf site-a/.registry && cp -r attacker/forged/.registry site-a/.registry
refused --registry site-a ledger verify

printf '\nDone. Everything is in %s\n' "$work"
