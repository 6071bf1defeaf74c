#!/bin/sh
# Rebuilds models/gate-detector.onnx (pruned) and models/gate-detector-dense.onnx from scratch. CPU only.
set -e
cd "$(dirname "$0")/.."
exec nice -n 10 /usr/bin/python3 models/train.py --all "$@"
