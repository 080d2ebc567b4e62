#!/usr/bin/env bash
# Build the one-folder desktop app with PyInstaller (build_app.spec), report its size, pack it as .tar.gz,
# check what must stay out of it, and smoke-test the *built binary* offscreen on a real face clip.
#
#   scripts/build_and_smoke.sh [--out DIR] [--work DIR] [--no-archive] [INPUT]
#
# INPUT: a video/image with at least one face; default: a clip made from a real photo of
# ../shared/data/faces by scripts/make_smoke_inputs.py. Python: $PYTHON, else `python` (the active venv;
# it needs the project's dependencies and pyinstaller: pip install -c constraints.txt -e ".[build]").
# GAZENET_BUNDLE_LEAN=0 builds the plain bundle (no excludes) to compare sizes.
#
# Smoke tests (each: gazenet-app --smoke-test INPUT -o CSV, offscreen; exits 0 only when frames, faces and
# rows arrived and the rows match the Qt-free annotation loop):
#  1. with every pose model shipped in models/ (the store's default), when there is one;
#  2. with a tiny random-weight pose model put into the bundle's own models folder for the test (and removed
#     after it; the archive is packed before), found by name with the user model folder empty: proves the
#     bundled MXNet forward pass, the frozen model store and the pose columns. The CSV must have angles.
# Exit status: 0 all passed, 1 a build/check/smoke failure, 2 bad usage or a missing input.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python}"
OUT="$ROOT/dist"
WORK="$ROOT/build/pyinstaller"
ARCHIVE=1
INPUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --work) WORK="$2"; shift 2 ;;
    --no-archive) ARCHIVE=0; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "error: unknown option $1" >&2; exit 2 ;;
    *) INPUT="$1"; shift ;;
  esac
done
OUT="$(mkdir -p "$OUT" && cd "$OUT" && pwd)"
APP="$OUT/gazenet-app"
EXE="$APP/gazenet-app"
[ -f "$EXE.exe" ] && EXE="$EXE.exe"

if ! "$PYTHON" -c "import PyInstaller" 2>/dev/null; then
  echo "error: PyInstaller is not installed for $PYTHON: pip install -c constraints.txt -e \".[build]\"" >&2
  exit 2
fi
if [ -n "$INPUT" ] && [ ! -e "$INPUT" ]; then
  echo "error: smoke input $INPUT does not exist" >&2
  exit 2
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/gazenet-bundle.XXXXXX")"
PLANTED=""
cleanup() {
  if [ -n "$PLANTED" ]; then rm -f $PLANTED; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

VERSION="$(cd "$ROOT" && "$PYTHON" -c 'import gazenet_app; print(gazenet_app.__version__)')"
echo "== building gazenet-app $VERSION with $("$PYTHON" -m PyInstaller --version 2>/dev/null | tail -1) (lean: ${GAZENET_BUNDLE_LEAN:-1})"
t0=$(date +%s)
if ! (cd "$ROOT" && "$PYTHON" -m PyInstaller --noconfirm --log-level WARN --distpath "$OUT" \
      --workpath "$WORK" build_app.spec) >"$TMP/pyinstaller.log" 2>&1; then
  tail -40 "$TMP/pyinstaller.log" >&2
  echo "error: PyInstaller failed (log above)" >&2
  exit 1
fi
t1=$(date +%s)
echo "build time: $((t1 - t0)) s"
[ -x "$EXE" ] || { echo "error: no executable at $EXE" >&2; exit 1; }

# What the bundle weighs, and what it must not contain.
"$PYTHON" "$ROOT/scripts/bundle_report.py" "$APP" || exit 1

if [ "$ARCHIVE" = 1 ]; then
  plat="$(uname -s | tr '[:upper:]' '[:lower:]')-$(uname -m)"
  tarball="$OUT/gazenet-app-$VERSION-$plat.tar.gz"
  ta=$(date +%s)
  tar -C "$OUT" -czf "$tarball" gazenet-app
  bytes=$(wc -c <"$tarball" | tr -d ' ')
  echo "archive: $tarball $(awk -v b="$bytes" 'BEGIN{printf "%.0f", b/1048576}') MiB ($bytes bytes, $(( $(date +%s) - ta )) s to pack)"
fi

# Smoke inputs: the clip (unless given) and the tiny model, made with the project's public API.
mkdir -p "$TMP/models" "$TMP/user-models" "$TMP/xdg" "$TMP/run"
if [ -z "$INPUT" ]; then
  INPUT="$TMP/smoke.avi"
  (cd "$ROOT" && PYTHONPATH="$ROOT" "$PYTHON" scripts/make_smoke_inputs.py --clip "$INPUT" \
     --model-dir "$TMP/models") || exit 2
else
  INPUT="$(cd "$(dirname "$INPUT")" && pwd)/$(basename "$INPUT")"
  (cd "$ROOT" && PYTHONPATH="$ROOT" "$PYTHON" -c "
import sys; from pathlib import Path; sys.path.insert(0, 'scripts')
from make_smoke_inputs import write_tiny_model; write_tiny_model(Path(sys.argv[1]))" "$TMP/models") || exit 2
fi

frozen() {  # the built binary, offscreen, with no user models, logs under $TMP, from a neutral folder
  (cd "$TMP/run" && env -u PYTHONPATH QT_QPA_PLATFORM=offscreen GAZENET_MODELS_DIR="$TMP/user-models" \
     XDG_DATA_HOME="$TMP/xdg" XDG_CONFIG_HOME="$TMP/xdg" timeout 900 "$EXE" "$@")
}

check_csv() {  # CSV has rows, and every row has angles
  "$PYTHON" - "$1" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8", newline="")))
missing = [r["frame"] for r in rows if not r["yaw"] or not r["pitch"] or not r["roll"]]
if not rows or missing:
    sys.exit(f"error: {sys.argv[1]}: {len(rows)} rows, {len(missing)} without angles (frames {missing[:5]})")
print(f"csv: {len(rows)} rows, all with yaw/pitch/roll")
EOF
}

echo "== smoke: $EXE --version"
frozen --version || { echo "error: the built binary does not start" >&2; exit 1; }

MODELS_IN_BUNDLE="$(find "$APP" -type d -path '*gazenet_app/models' | head -1)"
[ -n "$MODELS_IN_BUNDLE" ] || { echo "error: no gazenet_app/models folder in the bundle" >&2; exit 1; }
shipped="$(find "$MODELS_IN_BUNDLE" -maxdepth 1 -name '*.json' ! -name '*-symbol.json' | wc -l)"
if [ "$shipped" -gt 0 ]; then
  echo "== smoke 1: the shipped default model ($shipped card(s) in the bundle) on $INPUT"
  ts=$(date +%s)
  frozen --smoke-test "$INPUT" -o "$TMP/shipped.csv" --timeout 600 || exit 1
  check_csv "$TMP/shipped.csv" || exit 1
  echo "smoke 1 time: $(( $(date +%s) - ts )) s"
else
  echo "== smoke 1 skipped: no pose model ships in models/ yet"
fi

echo "== smoke 2: a tiny random-weight model placed in the bundle's models folder, on $INPUT"
for f in "$TMP"/models/*; do
  cp "$f" "$MODELS_IN_BUNDLE/"
  PLANTED="$PLANTED $MODELS_IN_BUNDLE/$(basename "$f")"
done
ts=$(date +%s)
frozen --smoke-test "$INPUT" -o "$TMP/tiny.csv" --model smoke_tiny_random --timeout 600 || exit 1
check_csv "$TMP/tiny.csv" || exit 1
rm -f $PLANTED
PLANTED=""
echo "smoke 2 time: $(( $(date +%s) - ts )) s"
echo "== all passed: $APP (total $(( $(date +%s) - t0 )) s)"
