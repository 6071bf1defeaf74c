"""Gate Decorator (You et al., NeurIPS 2019) on the BatchNorm scales.

Every prunable channel has a gate: its BN scale gamma. A group is the set of channels that must go together: one BN
channel, or, for the shortcut-tied streams s1..s3, the same channel index in the downsampling BN and the residual
block's second BN (they are summed). Importance of a group = |sum over a data subset of sum_members gamma * dL/dgamma|
(the first-order Taylor estimate of the loss change when the group is switched off), divided by the FLOPs its
removal saves, ranked globally across layers.
Tick: weights frozen, only the gates trained on a subset while importance accumulates, then the least important
groups are pruned (gamma and beta set to 0 and held there by a mask). Tock: everything trained with an L1 sparsity term
on the gates. Repeat until the FLOPs target, then fine-tune and rebuild the network with fewer channels.
"""
import numpy as np
import torch

from .net import GROUPS, GateNet, flops
from .train_loop import loss_fn, make_batch, train


class Pruner:
    def __init__(self, net, size, min_channels=4):
        self.net = net
        self.size = size
        self.min_channels = min_channels
        mods = dict(net.named_modules())
        self.bns = {g: [mods[n] for n in names] for g, names in GROUPS.items()}
        self.mask = {g: torch.ones(bns[0].num_features) for g, bns in self.bns.items()}

    def widths(self):
        return {g: int(m.sum()) for g, m in self.mask.items()}

    def apply_mask(self, net=None):
        with torch.no_grad():
            for g, bns in self.bns.items():
                for bn in bns:
                    bn.weight.mul_(self.mask[g])
                    bn.bias.mul_(self.mask[g])

    def gate_params(self):
        return [bn.weight for bns in self.bns.values() for bn in bns]

    def l1(self, lam):
        return lambda net: lam * sum(p.abs().sum() for p in self.gate_params())

    def tick(self, mix, rng, n_samples, prune_count, log, floor_flops=0):
        """Weights frozen (BN statistics too: eval mode); gates trained and scored on a subset; prune the weakest."""
        net = self.net
        net.eval()
        for p in net.parameters():
            p.requires_grad_(False)
        gates = self.gate_params()
        for p in gates:
            p.requires_grad_(True)
        opt = torch.optim.SGD(gates, lr=1e-3, momentum=0.9)
        score = {g: torch.zeros_like(m) for g, m in self.mask.items()}
        subset = mix.sample(rng, n_samples)
        for b in range(0, len(subset), 16):
            x, hm, off, wgt = make_batch(subset[b:b + 16], rng)
            loss = loss_fn(net(x), hm, off, wgt)
            opt.zero_grad()
            loss.backward()
            with torch.no_grad():
                for g, bns in self.bns.items():
                    score[g] += sum(bn.weight * bn.weight.grad for bn in bns)
            opt.step()
            self.apply_mask()
        for p in net.parameters():
            p.requires_grad_(True)
        # Global ranking of the live groups; keep at least min_channels in every layer.
        # The target is FLOPs, so a group's Taylor importance is divided by the FLOPs its removal saves (relative
        # to the mean saving): the loss increase per FLOP saved. Without it the ranking strips the cheap 1/16
        # layers first and FLOPs fall slowly.
        w = self.widths()
        base = flops(w, self.size)
        cost = {g: base - flops({**w, g: w[g] - 1}, self.size) for g in w}
        mean_cost = sum(cost.values()) / len(cost)
        cand = []
        for g, s in score.items():
            for c in torch.nonzero(self.mask[g]).flatten().tolist():
                cand.append((float(s[c].abs()) / (cost[g] / mean_cost), g, c))
        cand.sort()
        pruned = []
        alive = self.widths()
        for s, g, c in cand:
            # Stop at the FLOPs target within the last tick rather than overshoot it by a whole tick's share.
            if len(pruned) >= prune_count or flops(alive, self.size) <= floor_flops:
                break
            if alive[g] <= self.min_channels:
                continue
            self.mask[g][c] = 0
            alive[g] -= 1
            pruned.append(g)
        self.apply_mask()
        log(f"[tick] pruned {len(pruned)} channels ({', '.join(f'{g}:{pruned.count(g)}' for g in sorted(set(pruned)))})"
            f" → widths {self.widths()}")


def run(net, mix, val, rng, log, size, target_ratio, tock_epochs=1, finetune_epochs=12, lr=1e-3,
        prune_frac=0.06, lam=2e-4, teacher=None):
    """teacher: the dense network, frozen; the fine-tune distils from it (see train_loop.distill_loss)."""
    p = Pruner(net, size)
    dense_flops = flops(net.widths, size)
    total = sum(int(m.numel()) for m in p.mask.values())
    it = 0
    while flops(p.widths(), size) > target_ratio * dense_flops:
        it += 1
        p.tick(mix, rng, n_samples=64, prune_count=max(1, int(prune_frac * total)), log=log,
               floor_flops=target_ratio * dense_flops)
        ratio = flops(p.widths(), size) / dense_flops
        log(f"[tick {it}] FLOPs {ratio * 100:.1f}% of dense")
        train(net, mix, tock_epochs, lr, rng, log, f"tock {it}", after_step=p.apply_mask, extra_loss=p.l1(lam))
    train(net, mix, finetune_epochs, lr, rng, log, "fine-tune", after_step=p.apply_mask, val=val, teacher=teacher)
    return p


def rebuild(net, pruner):
    """A physically smaller GateNet holding the surviving channels; exact up to float rounding."""
    keep = {g: torch.nonzero(m).flatten() for g, m in pruner.mask.items()}
    small = GateNet(pruner.widths())
    # module → (output group, input group); None = all channels (image input or the 13 outputs).
    table = {
        "stem": ("stem", None), "down1": ("s1", "stem"), "down2": ("s2", "s1"), "down3": ("s3", "s2"),
        "res1.conv1": ("r1", "s1"), "res1.conv2": ("s1", "r1"), "res1.bn1": ("r1", None), "res1.bn2": ("s1", None),
        "res2.conv1": ("r2", "s2"), "res2.conv2": ("s2", "r2"), "res2.bn1": ("r2", None), "res2.bn2": ("s2", None),
        "res3.conv1": ("r3", "s3"), "res3.conv2": ("s3", "r3"), "res3.bn1": ("r3", None), "res3.bn2": ("s3", None),
        "lat1": ("fuse", "s1"), "lat2": ("fuse", "s2"), "lat3": ("fuse", "s3"), "fuse_bn": ("fuse", None),
        "head": ("head", "fuse"), "out": (None, "head"),
    }
    src = net.state_dict()
    dst = small.state_dict()
    for key in dst:
        mod, _, leaf = key.rpartition(".")
        base = mod.rsplit(".", 1)[0] if mod.endswith((".conv", ".bn")) else mod
        og, ig = table.get(mod, table.get(base))
        t = src[key]
        if t.dim() == 0:
            dst[key] = t
            continue
        if og is not None:
            t = t.index_select(0, keep[og])
        if t.dim() == 4 and ig is not None:
            t = t.index_select(1, keep[ig])
        assert t.shape == dst[key].shape, (key, t.shape, dst[key].shape)
        dst[key] = t
    small.load_state_dict(dst)
    return small
