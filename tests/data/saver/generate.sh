#!/usr/bin/env bash
# Regenerates the token saver's corpus: real outputs of real tools, run on this project (and
# this machine's files), as an agent would paste them into a conversation. Run from the repo
# root after a build (`bash .ci/ui`, `cargo test`); the files are committed, so this only
# documents and refreshes them. Output goes where this script lives.
set -uo pipefail
out="$(dirname "$0")"
# A build from nothing (its own target dir), as a first build in a fresh checkout prints it.
CARGO_TARGET_DIR="${TMPDIR:-/tmp}/saver-corpus-target" cargo check -p switchyard-ui --target wasm32-unknown-unknown \
  --color always > "$out/cargo-build.txt" 2>&1
# The integration tests (the unit tests embed this corpus, so they cannot be part of it).
cargo test --test gateway --color always > "$out/cargo-test.txt" 2>&1
cargo clippy --all-targets --color never -- -W clippy::pedantic > "$out/clippy-pedantic.txt" 2>&1
# A change to existing code (a new file would be all additions: nothing to trim).
git diff 9dd0c4b f92ca91 -- src-tauri/src > "$out/git-diff.txt"
git log -n 40 --stat 729b99a > "$out/git-log.txt"
grep -rn "fn " src-tauri/src > "$out/grep.txt"
find src-tauri tests ui /usr/lib/python3/dist-packages -type f 2>/dev/null | sort | head -3000 > "$out/find.txt"
ls -la /usr/bin > "$out/ls-la.txt"
cargo metadata --format-version 1 --no-deps | python3 -m json.tool > "$out/cargo-metadata.json"
cat src-tauri/src/gateway/inbound.rs > "$out/file-read.txt"
python3 - > "$out/python-traceback.txt" 2>&1 <<'PY'
import json, logging
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
log = logging.getLogger("worker")
for i in range(120):
    log.info("processed batch %d of 120 (%d items)", i + 1, 50)
def parse(s): return json.loads(s)
try:
    parse("{not json")
except Exception:
    log.exception("could not parse the config")
PY
