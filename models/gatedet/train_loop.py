"""Loss, batches and the training loop shared by dense training, the Tick-Tock tocks and fine-tuning."""
import math
import time

import numpy as np
import torch
import torch.nn.functional as F

from . import data
from .evaluate import average_precision, decode
from .net import OFFSET_SCALE, Exported


def focal(logits, gt):
    """CenterNet's penalty-reduced focal loss; positives are the cells where the target is exactly 1."""
    p = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    pos = gt.eq(1).float()
    neg = 1 - pos
    pos_loss = -(torch.log(p) * (1 - p) ** 2 * pos).sum()
    neg_loss = -(torch.log(1 - p) * p ** 2 * (1 - gt) ** 4 * neg).sum()
    return (pos_loss + neg_loss) / pos.sum().clamp(min=1)


def loss_fn(raw, hm, off, wgt):
    l_centre = focal(raw[:, 0], hm[:, 0])
    l_corner = focal(raw[:, 9:13], hm[:, 1:5])
    pred = raw[:, 1:9] * OFFSET_SCALE
    w = wgt[:, None]
    l_off = (F.smooth_l1_loss(pred, off, reduction="none", beta=1.0) * w).sum() / (w.sum() * 8).clamp(min=1)
    return l_centre + 0.5 * l_corner + 0.2 * l_off


def make_batch(frames, idx, rng, augment=True):
    xs, hms, offs, wgts = [], [], [], []
    for i in idx:
        _, img, gates = frames[i]
        if augment:
            im, g = data.augment(img, gates, rng)
        else:
            im, g = data.plain_resize(img), data.scale_gates(gates, img.shape[1], img.shape[0])
        hm, off, wgt = data.targets(g)
        xs.append(data.normalise(im))
        hms.append(hm)
        offs.append(off)
        wgts.append(wgt)
    t = lambda a: torch.from_numpy(np.stack(a))
    return t(xs), t(hms), t(offs), t(wgts)


def epoch_batches(n, repeats, batch, rng):
    order = np.concatenate([rng.permutation(n) for _ in range(repeats)])
    return [order[i:i + batch] for i in range(0, len(order), batch)]


def train(net, frames, epochs, lr, rng, log, tag, repeats=2, batch=16, after_step=None, extra_loss=None,
          val=None):
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    batches_per_epoch = math.ceil(len(frames) * repeats / batch)
    total = epochs * batches_per_epoch
    step = 0
    for ep in range(epochs):
        net.train()
        t0 = time.time()
        losses = []
        for idx in epoch_batches(len(frames), repeats, batch, rng):
            x, hm, off, wgt = make_batch(frames, idx, rng)
            for g in opt.param_groups:  # cosine schedule with a short warm-up
                g["lr"] = lr * min(1.0, (step + 1) / 30) * 0.5 * (1 + math.cos(math.pi * step / total))
            loss = loss_fn(net(x), hm, off, wgt)
            if extra_loss is not None:
                loss = loss + extra_loss(net)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if after_step is not None:
                after_step(net)
            losses.append(float(loss))
            step += 1
        msg = f"[{tag}] epoch {ep + 1}/{epochs} loss {np.mean(losses):.4f} ({time.time() - t0:.0f}s)"
        if val is not None and (ep % 3 == 2 or ep == epochs - 1):
            m = validate(net, val)
            msg += f" val mAP {m['map']:.3f} AP50 {m['ap50']:.3f} AP75 {m['ap75']:.3f}"
        log(msg)


@torch.no_grad()
def validate(net, val):
    """val: list of (name, img, gates). Metric in source pixels, exactly as `racepilot eval` computes it."""
    net.eval()
    exp = Exported(net).eval()
    dets, gts = {}, {}
    for i in range(0, len(val), 16):
        chunk = val[i:i + 16]
        x = torch.from_numpy(np.stack([data.normalise(data.plain_resize(img)) for _, img, _ in chunk]))
        out = exp(x).numpy()
        for (name, img, gates), o in zip(chunk, out):
            h, w, _ = img.shape
            s = np.array([w / data.SIZE, h / data.SIZE])
            dets[name] = [(sc, q * s) for sc, q in decode(o, average=True)]
            gts[name] = gates
    return average_precision(dets, gts)
