"""Decoding and the AlphaPilot metric in Python, mirroring src/perception/decode.ts and metrics.ts (the TS side is
the one that counts: `racepilot eval`); used here to pick checkpoints and print progress while training."""
import numpy as np

from .data import STRIDE

IOU_THRESHOLDS = [0.5 + 0.05 * i for i in range(10)]


def decode(out, thr=0.05, top_k=20, average=False):
    """out: 13xHxW (exported layout). Returns [(score, 4x2 corners in input px)].

    average: corners from the 3x3 cells around the peak, weighted by their centre score (offsets are taught there).
    """
    c = out[0]
    h, w = c.shape
    pad = np.pad(c, 1, constant_values=-1)
    win = np.stack([pad[dy:dy + h, dx:dx + w] for dy in range(3) for dx in range(3)])
    peaks = np.argwhere((c >= win.max(axis=0)) & (c >= thr))
    dets = []
    for y, x in peaks:
        q = out[1:9, y, x].reshape(4, 2) + np.array([x * STRIDE + STRIDE / 2, y * STRIDE + STRIDE / 2])
        if average:
            acc, sw = np.zeros((4, 2)), 0.0
            for yy in range(max(0, y - 1), min(h, y + 2)):
                for xx in range(max(0, x - 1), min(w, x + 2)):
                    wt = c[yy, xx]
                    acc += wt * (out[1:9, yy, xx].reshape(4, 2) + [xx * STRIDE + STRIDE / 2, yy * STRIDE + STRIDE / 2])
                    sw += wt
            q = acc / sw
        dets.append((float(c[y, x]), q))
    dets.sort(key=lambda d: -d[0])
    return dets[:top_k]


def hull(points):
    pts = sorted(map(tuple, points))
    if len(pts) < 3:
        return pts

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower, upper = [], []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]  # counter-clockwise in a y-up sense


def area(poly):
    if len(poly) < 3:
        return 0.0
    s = 0.0
    for i in range(len(poly)):
        x1, y1 = poly[i]
        x2, y2 = poly[(i + 1) % len(poly)]
        s += x1 * y2 - x2 * y1
    return abs(s) / 2


def clip(subject, clipper):
    out = list(subject)
    n = len(clipper)
    for i in range(n):
        a, b = clipper[i], clipper[(i + 1) % n]
        inp, out = out, []
        if not inp:
            break

        def inside(p):
            return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) >= 0

        def inter(p, q):
            x1, y1, x2, y2 = p[0], p[1], q[0], q[1]
            x3, y3, x4, y4 = a[0], a[1], b[0], b[1]
            d = (x1 - x2) * (y3 - y4) - (y1 - y2) * (x3 - x4)
            if abs(d) < 1e-12:
                return q
            t = ((x1 - x3) * (y3 - y4) - (y1 - y3) * (x3 - x4)) / d
            return (x1 + t * (x2 - x1), y1 + t * (y2 - y1))

        for j in range(len(inp)):
            p, q = inp[j], inp[(j + 1) % len(inp)]
            if inside(q):
                if not inside(p):
                    out.append(inter(p, q))
                out.append(q)
            elif inside(p):
                out.append(inter(p, q))
    return out


def iou(q1, q2):
    a, b = hull(q1), hull(q2)
    aa, ab = area(a), area(b)
    if aa <= 0 or ab <= 0:
        return 0.0
    i = area(clip(a, b))
    return i / (aa + ab - i)


def average_precision(dets, gts):
    """dets: {image: [(score, quad)]}, gts: {image: [quad]} in the same pixel frame. COCO 101-point AP per IoU."""
    n_gt = sum(len(g) for g in gts.values())
    flat = [(s, img, q) for img, ds in dets.items() for s, q in ds]
    flat.sort(key=lambda d: -d[0])
    ious = [[iou(q, g) for g in gts.get(img, [])] for _, img, q in flat]
    aps = []
    for t in IOU_THRESHOLDS:
        used = {img: [False] * len(g) for img, g in gts.items()}
        tp = []
        for (s, img, q), row in zip(flat, ious):
            best, bj = t, -1
            for j, v in enumerate(row):
                if not used[img][j] and v >= best:
                    best, bj = v, j
            if bj >= 0:
                used[img][bj] = True
            tp.append(1 if bj >= 0 else 0)
        tp = np.array(tp, dtype=np.float64)
        ctp = np.cumsum(tp)
        rec = ctp / max(n_gt, 1)
        prec = ctp / np.arange(1, len(tp) + 1)
        for i in range(len(prec) - 2, -1, -1):
            prec[i] = max(prec[i], prec[i + 1])
        ap = 0.0
        for r in np.linspace(0, 1, 101):
            k = np.searchsorted(rec, r, side="left")
            ap += prec[k] if k < len(prec) else 0.0
        aps.append(ap / 101)
    return {"map": float(np.mean(aps)), "ap50": aps[0], "ap75": aps[5]}
