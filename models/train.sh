#!/bin/sh
# Rebuilds the shipped pair (models/gate-detector.onnx, pruned, and models/gate-detector-dense.onnx) the way it was
# made: a three-stage curriculum on the real frames with a growing share of rendered frames, then Gate Decorator
# pruning with distillation from the dense network. CPU only; about an hour on two cores. See models/README.md.
# Stages 1 and 2 write only the dense checkpoint (models/.work/dense.pt); stage 3 continues from it, prunes and
# exports both files into models/ (pass another --out folder as the first arguments to keep the shipped ones).
set -e
cd "$(dirname "$0")/.."
out=${1:-models}
run() { nice -n 10 /usr/bin/python3 models/train.py "$@"; }
# 1: from scratch, 48 rendered frames per epoch next to two passes over the real ones.
run --dense-only --epochs 46 --rendered-per-epoch 48 --real-repeats 2 --seed 4 --out models/.work/stage1
cp models/.work/dense.pt models/.work/stage1/dense.pt
# 2: continue at half the learning rate with 160 rendered frames per epoch.
run --dense-only --init models/.work/stage1/dense.pt --lr 1e-3 --epochs 24 --rendered-per-epoch 160 --real-repeats 2 --seed 4 --out models/.work/stage2
cp models/.work/dense.pt models/.work/stage2/dense.pt
# 3: 200 rendered frames per epoch, then prune to 38.5% of the dense FLOPs, fine-tune and polish with distillation.
run --all --init models/.work/stage2/dense.pt --lr 1e-3 --epochs 30 --rendered-per-epoch 200 --real-repeats 2 \
  --distill 0.5 --target 0.385 --finetune 14 --polish 20 --seed 6 --out "$out"
