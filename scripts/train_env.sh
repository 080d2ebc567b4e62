# Shared set-up of the training recipes (sourced by scripts/train_default.sh and scripts/train_profiles.sh):
# strict mode, the repository root as the working folder and on PYTHONPATH, the CLI, and the data/runs/shared
# folders (GAZENET_DATA_DIR, GAZENET_RUNS_DIR, SHARED override them).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
PY="${PYTHON:-python}"
G=("$PY" -m gazenet_app.cli.main)
DATA="${GAZENET_DATA_DIR:-$HOME/.cache/gazenet/data}"
RUNS="${GAZENET_RUNS_DIR:-$HOME/.cache/gazenet/runs}"
SHARED="${SHARED:-$PWD/../shared/data}"
MODEL="${MODEL:-hopenet_mnv2_96}"
