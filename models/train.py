#!/usr/bin/python3
"""Rebuild the gate detector from scratch: train dense, prune with Gate Decorator, fine-tune, export both ONNX files.

  nice -n 10 /usr/bin/python3 models/train.py --all          # everything (≈35 min on two busy shared cores)
  /usr/bin/python3 models/train.py --all --epochs 2 --finetune 1 --out /tmp/x   # a quick smoke run
Logs go to models/.work/train.log, checkpoints to models/.work/.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from gatedet import data, prune  # noqa: E402
from gatedet.export import export  # noqa: E402
from gatedet.net import DENSE, GateNet, flops, params  # noqa: E402
from gatedet.train_loop import train, validate  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--all", action="store_true", help="dense training, pruning, fine-tuning and export")
    ap.add_argument("--prune-only", action="store_true", help="start from models/.work/dense.pt")
    ap.add_argument("--polish-only", action="store_true",
                    help="only the last step: fine-tune models/.work/pruned.pt for --polish epochs and export it")
    ap.add_argument("--polish", type=int, default=15,
                    help="epochs of fine-tuning the rebuilt (physically pruned) network at a lower rate")
    ap.add_argument("--data", default=os.path.join(HERE, "..", "..", "shared", "data", "gates", "airr-onboard"))
    ap.add_argument("--out", default=HERE, help="folder for the two .onnx files")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--finetune", type=int, default=10)
    ap.add_argument("--target", type=float, default=0.36, help="pruned FLOPs / dense FLOPs")
    ap.add_argument("--prune-frac", type=float, default=0.06, help="channels pruned per tick, share of all")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=4)
    a = ap.parse_args()
    if not (a.all or a.prune_only or a.polish_only):
        ap.print_help()
        return 2
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    os.makedirs(a.out, exist_ok=True)
    work = os.path.join(HERE, ".work")
    os.makedirs(work, exist_ok=True)
    logf = open(os.path.join(work, "train.log"), "a")

    def log(msg):
        line = f"{time.strftime('%H:%M:%S')} {msg}"
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    if not os.path.exists(os.path.join(a.data, "corners.csv")):
        log(f"no data at {a.data}: the real frames are needed (../shared/data/gates/airr-onboard)")
        return 1
    frames = data.load_frames(a.data)
    tr, val = data.split(frames)
    log(f"data: {len(tr)} training frames ({sum(len(f[2]) for f in tr)} gates), {len(val)} validation frames "
        f"({sum(len(f[2]) for f in val)} gates, ids >= {data.VAL_FIRST_ID})")
    split_note = f"real frames: train ids < {data.VAL_FIRST_ID}, validation ids >= {data.VAL_FIRST_ID}"
    if a.polish_only:
        ck = torch.load(os.path.join(work, "pruned.pt"))
        small = GateNet(ck["widths"])
        small.load_state_dict(ck["state"])
        return polish(small, tr, val, a, rng, log, work, split_note)
    net = GateNet(DENSE)
    dense_path = os.path.join(work, "dense.pt")
    if a.all:
        log(f"dense: {params(net)} params, {flops(DENSE, data.SIZE) / 1e6:.1f} MFLOPs/image")
        train(net, tr, a.epochs, 2e-3, rng, log, "dense", val=val)
        torch.save(net.state_dict(), dense_path)
    else:
        net.load_state_dict(torch.load(dense_path))
    dm = validate(net, val)
    log(f"dense validation: {dm}")
    export(net, os.path.join(a.out, "gate-detector-dense.onnx"), "dense", {"racepilot.training": split_note})

    pr = prune.run(net, tr, val, rng, log, data.SIZE, a.target, finetune_epochs=a.finetune, prune_frac=a.prune_frac)
    small = prune.rebuild(net, pr)
    x = torch.randn(2, 3, data.SIZE, data.SIZE)
    net.eval(), small.eval()
    with torch.no_grad():
        diff = float((net(x) - small(x)).abs().max())
    log(f"rebuilt pruned net: widths {small.widths}, max |masked - rebuilt| = {diff:.2e}")
    torch.save({"widths": small.widths, "state": small.state_dict()}, os.path.join(work, "pruned.pt"))
    return polish(small, tr, val, a, rng, log, work, split_note)


def polish(small, tr, val, a, rng, log, work, split_note):
    if a.polish > 0:
        train(small, tr, a.polish, 5e-4, rng, log, "polish", val=val)
        torch.save({"widths": small.widths, "state": small.state_dict()}, os.path.join(work, "pruned-polished.pt"))
    pm = validate(small, val)
    log(f"pruned: {params(small)} params, {flops(small.widths, data.SIZE) / 1e6:.1f} MFLOPs/image "
        f"({100 * (1 - flops(small.widths, data.SIZE) / flops(DENSE, data.SIZE)):.1f}% fewer), validation {pm}")
    export(small, os.path.join(a.out, "gate-detector.onnx"), "pruned",
           {"racepilot.training": split_note, "racepilot.pruned_from_flops": str(flops(DENSE, data.SIZE))})
    log("exported gate-detector.onnx (pruned) and gate-detector-dense.onnx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
