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


def distill_loss(raw, teacher_raw, wgt):
    """Knowledge distillation from the dense network while the pruned one is fine-tuned: match its heatmaps
    (squared error of the probabilities, summed and divided by the number of gate cells, the scale of the focal
    loss) and its corner offsets on the cells that carry offsets. Keeps the pruned network close to the dense one
    on the augmented data it never has labels as good as for: the teacher's soft heatmaps."""
    hm = [0, 9, 10, 11, 12]
    d_hm = (torch.sigmoid(raw[:, hm]) - torch.sigmoid(teacher_raw[:, hm])).pow(2).sum()
    n = wgt.gt(0).float().sum().clamp(min=1)
    w = wgt[:, None]
    d_off = (F.smooth_l1_loss(raw[:, 1:9] * OFFSET_SCALE, teacher_raw[:, 1:9] * OFFSET_SCALE, reduction="none",
                              beta=1.0) * w).sum() / (w.sum() * 8).clamp(min=1)
    return d_hm / n * 9 + 0.2 * d_off


def make_batch(chosen, rng, augment=True):
    """chosen: a list of (name, img, gates) frames."""
    xs, hms, offs, wgts = [], [], [], []
    for _, img, gates in chosen:
        img = data.as_float(img)
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


class Mix:
    """The training data of one epoch: every real frame `real_repeats` times (fractional part drawn at random)
    plus `rendered_per_epoch` frames drawn from the rendered pool, shuffled together so every batch mixes both.
    Real frames stay the larger share: they are the domain that is judged; the rendered ones teach the simulator's
    look and add gate poses, distances and overlaps the 152 real frames lack."""

    def __init__(self, real, rendered=(), real_repeats=1.5, rendered_per_epoch=96):
        self.real = list(real)
        self.rendered = list(rendered)
        self.real_repeats = real_repeats
        self.rendered_per_epoch = min(rendered_per_epoch, len(self.rendered)) if self.rendered else 0

    def epoch_size(self):
        return int(round(len(self.real) * self.real_repeats)) + self.rendered_per_epoch

    def epoch(self, rng, batch):
        n = len(self.real)
        whole = int(self.real_repeats)
        order = [self.real[i] for _ in range(whole) for i in rng.permutation(n)]
        order += [self.real[i] for i in rng.permutation(n)[:int(round(n * (self.real_repeats - whole)))]]
        if self.rendered_per_epoch:
            order += [self.rendered[i] for i in rng.choice(len(self.rendered), self.rendered_per_epoch, replace=False)]
        order = [order[i] for i in rng.permutation(len(order))]
        return [order[i:i + batch] for i in range(0, len(order), batch)]

    def sample(self, rng, n):
        """n frames in the epoch's proportions (the tick's data subset)."""
        share = self.rendered_per_epoch / max(self.epoch_size(), 1)
        k = int(round(n * share))
        out = [self.real[i] for i in rng.permutation(len(self.real))[:n - k]]
        if k:
            out += [self.rendered[i] for i in rng.choice(len(self.rendered), k, replace=False)]
        return out


def train(net, mix, epochs, lr, rng, log, tag, batch=16, after_step=None, extra_loss=None, val=None, teacher=None,
          distill=1.0):
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    batches_per_epoch = math.ceil(mix.epoch_size() / batch)
    total = epochs * batches_per_epoch
    step = 0
    if teacher is not None:
        teacher.eval()
    for ep in range(epochs):
        net.train()
        t0 = time.time()
        losses = []
        for chosen in mix.epoch(rng, batch):
            x, hm, off, wgt = make_batch(chosen, rng)
            for g in opt.param_groups:  # cosine schedule with a short warm-up
                g["lr"] = lr * min(1.0, (step + 1) / 30) * 0.5 * (1 + math.cos(math.pi * step / total))
            raw = net(x)
            loss = loss_fn(raw, hm, off, wgt)
            if teacher is not None:
                with torch.no_grad():
                    t_raw = teacher(x)
                loss = loss + distill * distill_loss(raw, t_raw, wgt)
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
        x = torch.from_numpy(np.stack([data.normalise(data.plain_resize(data.as_float(img))) for _, img, _ in chunk]))
        out = exp(x).numpy()
        for (name, img, gates), o in zip(chunk, out):
            h, w, _ = img.shape
            s = np.array([w / data.SIZE, h / data.SIZE])
            dets[name] = [(sc, q * s) for sc, q in decode(o, average=True)]
            gts[name] = gates
    return average_precision(dets, gts)
