#!/usr/bin/python3
"""Rebuild the gate detector from scratch: train dense, prune with Gate Decorator, fine-tune, export both ONNX files.

  models/train.sh                                           # the shipped pair: three runs of this script (≈1 h)
  nice -n 10 /usr/bin/python3 models/train.py --all --out DIR   # one run; --dense-only and --init chain runs
  /usr/bin/python3 models/train.py --all --epochs 2 --finetune 1 --out /tmp/x   # a quick smoke run
Logs go to models/.work/train.log, checkpoints to models/.work/, the rendered training frames (made here with
`node bin/racepilot.js dataset`, so the CLI must be compiled: `npx tsc -p .`) to models/.work/rendered/.
"""
import argparse
import copy
import os
import subprocess
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from gatedet import data, prune  # noqa: E402
from gatedet.export import export  # noqa: E402
from gatedet.net import DENSE, GateNet, flops, params  # noqa: E402
from gatedet.train_loop import Mix, train, validate  # noqa: E402

REPO = os.path.dirname(HERE)
# The rendered training sets: (folder, count, seed, width, height). 320x240 is what the simulator's cameras render
# (src/sim/render/rig-renderer.ts: the rig's 640x480 lenses at scale 0.5); 360x270 adds the dataset default.
RENDERED = [("r320-101", 1200, 101, 320, 240), ("r360-102", 600, 102, 360, 270)]
# A rendered set never trained on, for the progress log and the model card (seed outside the training seeds).
RENDERED_EVAL = ("eval320-7777", 200, 7777, 320, 240)


def rendered_set(work, spec, log):
    """Generates (once; same seed, same files) and returns the folder of one rendered set."""
    name, count, seed, w, h = spec
    out = os.path.join(work, "rendered", name)
    if os.path.exists(os.path.join(out, "corners.csv")) and len(os.listdir(out)) >= count:
        return out
    cli = os.path.join(REPO, "bin", "racepilot.js")
    if not os.path.exists(os.path.join(REPO, "dist", "src", "cli", "dataset.js")):
        raise SystemExit("the rendered frames need the compiled CLI: run `npx tsc -p .` in the repo root first")
    log(f"rendering {count} frames {w}x{h} seed {seed} → {out}")
    subprocess.run(["node", cli, "dataset", "--out", out, "--count", str(count), "--seed", str(seed),
                    "--width", str(w), "--height", str(h)], check=True, stdout=subprocess.DEVNULL)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--all", action="store_true", help="dense training, pruning, fine-tuning and export")
    ap.add_argument("--prune-only", action="store_true", help="start from models/.work/dense.pt")
    ap.add_argument("--dense-only", action="store_true",
                    help="only train the dense network (models/.work/dense.pt and gate-detector-dense.onnx): a stage of a "
                         "curriculum that --init continues")
    ap.add_argument("--polish-only", action="store_true",
                    help="only the last step: fine-tune models/.work/pruned.pt for --polish epochs and export it")
    ap.add_argument("--polish", type=int, default=15,
                    help="epochs of fine-tuning the rebuilt (physically pruned) network at a lower rate")
    ap.add_argument("--data", default=os.path.join(HERE, "..", "..", "shared", "data", "gates", "airr-onboard"))
    ap.add_argument("--out", default=HERE, help="folder for the two .onnx files")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--finetune", type=int, default=10)
    ap.add_argument("--target", type=float, default=0.36, help="pruned FLOPs / dense FLOPs (the last tick stops there)")
    ap.add_argument("--prune-frac", type=float, default=0.06, help="channels pruned per tick, share of all")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--init", help="start the dense training from this dense checkpoint (a fine-tune) instead of scratch")
    ap.add_argument("--lr", type=float, default=2e-3, help="peak learning rate of the dense training")
    ap.add_argument("--rendered-per-epoch", type=int, default=0,
                    help="rendered frames mixed into each epoch (0: real frames only)")
    ap.add_argument("--real-repeats", type=float, default=2.0, help="passes over the real training frames per epoch")
    ap.add_argument("--distill", type=float, default=0.0,
                    help="weight of the distillation from the dense network in the pruned fine-tunes (0: off)")
    a = ap.parse_args()
    if a.dense_only:
        a.all = True
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
    rendered = []
    if a.rendered_per_epoch > 0:
        for spec in RENDERED:
            rendered += data.load_frames(rendered_set(work, spec, log), compact=True)
        log(f"rendered: {len(rendered)} frames ({sum(len(f[2]) for f in rendered)} gates), "
            f"{a.rendered_per_epoch} per epoch next to {a.real_repeats} passes over the real ones")
    r_eval = data.load_frames(rendered_set(work, RENDERED_EVAL, log), compact=True)
    mix = Mix(tr, rendered, a.real_repeats, a.rendered_per_epoch)
    split_note = (f"real frames: train ids < {data.VAL_FIRST_ID}, validation ids >= {data.VAL_FIRST_ID}; "
                  f"rendered: " + (", ".join(f"{c} at {w}x{h} seed {s}" for _, c, s, w, h in RENDERED)
                                   if rendered else "none"))
    net = GateNet(DENSE)
    dense_path = os.path.join(work, "dense.pt")
    if a.polish_only:
        ck = torch.load(os.path.join(work, "pruned.pt"))
        small = GateNet(ck["widths"])
        small.load_state_dict(ck["state"])
        net.load_state_dict(torch.load(dense_path))
        return polish(small, net, mix, val, r_eval, a, rng, log, work, split_note)
    if a.all:
        log(f"dense: {params(net)} params, {flops(DENSE, data.SIZE) / 1e6:.1f} MFLOPs/image")
        if a.init:
            net.load_state_dict(torch.load(a.init))
            log(f"dense: starting from {a.init}, validation {validate(net, val)}")
        train(net, mix, a.epochs, a.lr, rng, log, "dense", val=val)
        torch.save(net.state_dict(), dense_path)
    else:
        net.load_state_dict(torch.load(dense_path))
    dm = validate(net, val)
    log(f"dense validation: {dm}, rendered (held-out seed): {validate(net, r_eval)}")
    export(net, os.path.join(a.out, "gate-detector-dense.onnx"), "dense", {"racepilot.training": split_note})
    if a.dense_only:
        log("exported gate-detector-dense.onnx (--dense-only: no pruning)")
        return 0
    teacher = copy.deepcopy(net).eval() if a.distill > 0 else None
    for p in (teacher.parameters() if teacher is not None else []):
        p.requires_grad_(False)

    pr = prune.run(net, mix, val, rng, log, data.SIZE, a.target, finetune_epochs=a.finetune, prune_frac=a.prune_frac,
                   teacher=teacher)
    small = prune.rebuild(net, pr)
    x = torch.randn(2, 3, data.SIZE, data.SIZE)
    net.eval(), small.eval()
    with torch.no_grad():
        diff = float((net(x) - small(x)).abs().max())
    log(f"rebuilt pruned net: widths {small.widths}, max |masked - rebuilt| = {diff:.2e}")
    torch.save({"widths": small.widths, "state": small.state_dict()}, os.path.join(work, "pruned.pt"))
    return polish(small, teacher, mix, val, r_eval, a, rng, log, work, split_note)


def polish(small, teacher, mix, val, r_eval, a, rng, log, work, split_note):
    if a.polish > 0:
        train(small, mix, a.polish, 5e-4, rng, log, "polish", val=val,
              teacher=teacher if a.distill > 0 else None, distill=a.distill)
        torch.save({"widths": small.widths, "state": small.state_dict()}, os.path.join(work, "pruned-polished.pt"))
    pm = validate(small, val)
    log(f"pruned: {params(small)} params, {flops(small.widths, data.SIZE) / 1e6:.1f} MFLOPs/image "
        f"({100 * (1 - flops(small.widths, data.SIZE) / flops(DENSE, data.SIZE)):.1f}% fewer), validation {pm}, "
        f"rendered (held-out seed): {validate(small, r_eval)}")
    export(small, os.path.join(a.out, "gate-detector.onnx"), "pruned",
           {"racepilot.training": split_note, "racepilot.pruned_from_flops": str(flops(DENSE, data.SIZE))})
    log("exported gate-detector.onnx (pruned) and gate-detector-dense.onnx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
