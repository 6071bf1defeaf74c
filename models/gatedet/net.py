"""The gate detector network, parameterised by its channel widths so a pruned network is the same class, smaller.

Layout (input SIZE x SIZE RGB, output at stride 4):
  stem   3x3 s2  3→stem                       (1/2)
  down1  3x3 s2  stem→s1, res block s1→r1→s1  (1/4)   the s1 channels are tied by the shortcut
  down2  3x3 s2  s1→s2,   res block s2→r2→s2  (1/8)   tied: s2
  down3  3x3 s2  s2→s3,   res block s3→r3→s3  (1/16)  tied: s3
  fuse   1x1 laterals of the three stages, upsampled (nearest) to 1/4 and summed, BN+ReLU → fuse
  head   3x3 fuse→head, BN+ReLU, then 1x1 head→13
Output channels: 0 centre heatmap, 1-8 corner offsets (x,y for TL,TR,BR,BL) in input pixels from the cell centre,
9-12 corner heatmaps TL,TR,BR,BL. The exported graph applies the sigmoids and the offset scale.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

DENSE = {"stem": 16, "s1": 32, "r1": 32, "s2": 48, "r2": 48, "s3": 96, "r3": 96, "fuse": 48, "head": 32}
# Each gate group: the BatchNorm layers whose channels are one filter set. Shortcut-tied streams hold two BNs.
GROUPS = {
    "stem": ["stem.bn"],
    "s1": ["down1.bn", "res1.bn2"], "r1": ["res1.bn1"],
    "s2": ["down2.bn", "res2.bn2"], "r2": ["res2.bn1"],
    "s3": ["down3.bn", "res3.bn2"], "r3": ["res3.bn1"],
    "fuse": ["fuse_bn"], "head": ["head.bn"],
}
OUT_CH = 13
OFFSET_SCALE = 8.0  # the raw offset channels are in units of 8 input pixels: keeps them near unit scale


class ConvBN(nn.Module):
    def __init__(self, cin, cout, k=3, s=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, s, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.bn(self.conv(x))


class Res(nn.Module):
    def __init__(self, c, mid):
        super().__init__()
        self.conv1 = nn.Conv2d(c, mid, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, c, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        return F.relu(x + self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))


class GateNet(nn.Module):
    def __init__(self, w=None):
        super().__init__()
        w = dict(DENSE if w is None else w)
        self.widths = w
        self.stem = ConvBN(3, w["stem"], 3, 2)
        self.down1 = ConvBN(w["stem"], w["s1"], 3, 2)
        self.res1 = Res(w["s1"], w["r1"])
        self.down2 = ConvBN(w["s1"], w["s2"], 3, 2)
        self.res2 = Res(w["s2"], w["r2"])
        self.down3 = ConvBN(w["s2"], w["s3"], 3, 2)
        self.res3 = Res(w["s3"], w["r3"])
        self.lat1 = nn.Conv2d(w["s1"], w["fuse"], 1, bias=False)
        self.lat2 = nn.Conv2d(w["s2"], w["fuse"], 1, bias=False)
        self.lat3 = nn.Conv2d(w["s3"], w["fuse"], 1, bias=False)
        self.fuse_bn = nn.BatchNorm2d(w["fuse"])
        self.head = ConvBN(w["fuse"], w["head"], 3, 1)
        self.out = nn.Conv2d(w["head"], OUT_CH, 1)
        with torch.no_grad():
            self.out.bias.zero_()
            self.out.bias[0] = -2.19  # heatmaps start near p=0.1 (CenterNet's prior)
            self.out.bias[9:] = -2.19

    def forward(self, x):
        x = F.relu(self.stem(x))
        f1 = self.res1(F.relu(self.down1(x)))
        f2 = self.res2(F.relu(self.down2(f1)))
        f3 = self.res3(F.relu(self.down3(f2)))
        y = self.lat1(f1) + F.interpolate(self.lat2(f2), scale_factor=2.0, mode="nearest") \
            + F.interpolate(self.lat3(f3), scale_factor=4.0, mode="nearest")
        y = F.relu(self.fuse_bn(y))
        y = F.relu(self.head(y))
        return self.out(y)  # raw: logits and offsets / OFFSET_SCALE


class Exported(nn.Module):
    """What goes into the ONNX file: sigmoids applied, offsets in input pixels, one NCHW output tensor."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        r = self.net(x)
        return torch.cat([torch.sigmoid(r[:, 0:1]), r[:, 1:9] * OFFSET_SCALE, torch.sigmoid(r[:, 9:13])], dim=1)


def flops(w, size):
    """FLOPs per image = 2 x multiply-accumulates of the convolutions (BN folds into them at export)."""
    h2, h4, h8, h16 = size // 2, size // 4, size // 8, size // 16
    macs = 0
    macs += h2 * h2 * 3 * w["stem"] * 9
    macs += h4 * h4 * (w["stem"] * w["s1"] * 9 + 2 * w["s1"] * w["r1"] * 9 + w["s1"] * w["fuse"])
    macs += h8 * h8 * (w["s1"] * w["s2"] * 9 + 2 * w["s2"] * w["r2"] * 9 + w["s2"] * w["fuse"])
    macs += h16 * h16 * (w["s2"] * w["s3"] * 9 + 2 * w["s3"] * w["r3"] * 9 + w["s3"] * w["fuse"])
    macs += h4 * h4 * (w["fuse"] * w["head"] * 9 + w["head"] * OUT_CH)
    return 2 * macs


def params(net):
    return sum(p.numel() for p in net.parameters())
