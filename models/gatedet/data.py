"""Real AIRR frames: loading, the run-wise split, augmentation that looks like racing frames, and training targets.

Coordinates are continuous pixel coordinates (pixel k spans [k, k+1)); the labels are used as they are. The
network sees the whole frame resized to SIZE x SIZE, sampled bilinearly at pixel centres exactly as
src/perception/preprocess.ts does, so training and the daemon see the same pixels.
"""
import csv
import math
import os
import re

import numpy as np
from PIL import Image

SIZE = 192
STRIDE = 4
OUT = SIZE // STRIDE
MEAN = (0.45, 0.45, 0.45)
STD = (0.25, 0.25, 0.25)
# Validation: the last contiguous block of frame ids (one boundary only with the training frames).
VAL_FIRST_ID = 296


def frame_id(name):
    m = re.match(r"img_(\d+)\.", name)
    if not m:
        raise ValueError(f"unexpected image name {name}")
    return int(m.group(1))


def load_labels(path):
    gates = {}
    with open(path, newline="") as f:
        for line_no, row in enumerate(csv.reader(f), 1):
            if not row:
                continue
            if len(row) != 9:
                raise ValueError(f"{path}:{line_no}: expected 9 fields, got {len(row)}")
            q = np.array([float(v) for v in row[1:]], dtype=np.float32).reshape(4, 2)
            gates.setdefault(row[0], []).append(q)
    return gates


def load_frames(folder, compact=False):
    """[(name, HxWx3 image, [4x2 corners...])] sorted by frame id.

    compact: keep the pixels as uint8 (the thousands of rendered frames would take gigabytes as float32);
    `as_float` converts one frame when a batch needs it.
    """
    labels = load_labels(os.path.join(folder, "corners.csv"))
    frames = []
    for name in sorted(labels, key=frame_id):
        img = np.asarray(Image.open(os.path.join(folder, name)).convert("RGB"), dtype=np.uint8)
        frames.append((name, img if compact else img.astype(np.float32) / 255.0, labels[name]))
    return frames


def as_float(img):
    return img.astype(np.float32) / 255.0 if img.dtype == np.uint8 else img


def split(frames):
    train = [f for f in frames if frame_id(f[0]) < VAL_FIRST_ID]
    val = [f for f in frames if frame_id(f[0]) >= VAL_FIRST_ID]
    return train, val


def sample(img, sx, sy, border=0.0):
    """Bilinear sampling of img at float source coordinates (pixel-centre convention); outside → border."""
    h, w, _ = img.shape
    x = sx - 0.5
    y = sy - 0.5
    x0 = np.floor(x).astype(np.int32)
    y0 = np.floor(y).astype(np.int32)
    fx = (x - x0)[..., None]
    fy = (y - y0)[..., None]
    inside = ((sx >= 0) & (sx <= w) & (sy >= 0) & (sy <= h))[..., None]
    x0c = np.clip(x0, 0, w - 1)
    x1c = np.clip(x0 + 1, 0, w - 1)
    y0c = np.clip(y0, 0, h - 1)
    y1c = np.clip(y0 + 1, 0, h - 1)
    top = img[y0c, x0c] * (1 - fx) + img[y0c, x1c] * fx
    bot = img[y1c, x0c] * (1 - fx) + img[y1c, x1c] * fx
    out = top * (1 - fy) + bot * fy
    return np.where(inside, out, border).astype(np.float32)


def plain_resize(img):
    """The daemon's preprocessing: whole frame to SIZE x SIZE, edge-clamped bilinear (no border needed)."""
    h, w, _ = img.shape
    u = (np.arange(SIZE, dtype=np.float32) + 0.5) * (w / SIZE)
    v = (np.arange(SIZE, dtype=np.float32) + 0.5) * (h / SIZE)
    sx, sy = np.meshgrid(np.clip(u, 0.5, w - 0.5), np.clip(v, 0.5, h - 0.5))
    return sample(img, sx, sy)


def augment(img, gates, rng):
    """Random crop/zoom/rotation (gates cut at the border), lens distortion, flip, blur, glare, exposure, noise.

    Returns (SIZE x SIZE x 3 image, [4x2 corners in network input pixels]).
    """
    h, w, _ = img.shape
    # Crop window in source pixels: scale < 1 zooms in (gates cut by the border), > 1 zooms out (small far gates).
    scale = math.exp(rng.uniform(math.log(0.55), math.log(1.25)))
    aspect = math.exp(rng.uniform(-0.15, 0.15))
    cw = w * scale * aspect
    ch = h * scale / aspect
    cx = w / 2 + rng.uniform(-0.5, 0.5) * max(w - cw, 0.25 * cw)
    cy = h / 2 + rng.uniform(-0.5, 0.5) * max(h - ch, 0.25 * ch)
    ang = math.radians(rng.uniform(-12, 12))
    ca, sa = math.cos(ang), math.sin(ang)
    k1 = rng.uniform(-0.12, 0.12) if rng.random() < 0.6 else 0.0
    flip = rng.random() < 0.5

    # Output pixel → normalised [-1,1] → radial distortion → rotation/scale → source pixel.
    u = (np.arange(SIZE, dtype=np.float32) + 0.5) / SIZE * 2 - 1
    nu, nv = np.meshgrid(u, u)
    if flip:
        nu = -nu
    r2 = nu * nu + nv * nv
    du, dv = nu * (1 + k1 * r2), nv * (1 + k1 * r2)
    sx = cx + (ca * du * cw / 2 - sa * dv * ch / 2)
    sy = cy + (sa * du * cw / 2 + ca * dv * ch / 2)
    border = rng.uniform(0, 0.6)
    out = sample(img, sx, sy, border)

    new_gates = []
    for q in gates:
        px = q[:, 0] - cx
        py = q[:, 1] - cy
        du_ = (ca * px + sa * py) / (cw / 2)
        dv_ = (-sa * px + ca * py) / (ch / 2)
        # Invert the distortion by fixed-point iteration (k1 is small).
        nu_, nv_ = du_.copy(), dv_.copy()
        for _ in range(8):
            f = 1 + k1 * (nu_ * nu_ + nv_ * nv_)
            nu_, nv_ = du_ / f, dv_ / f
        if flip:
            nu_ = -nu_
        c = np.stack([(nu_ + 1) / 2 * SIZE, (nv_ + 1) / 2 * SIZE], axis=1).astype(np.float32)
        if flip:  # mirrored: TL,TR,BR,BL become TR,TL,BL,BR
            c = c[[1, 0, 3, 2]]
        new_gates.append(c)

    # Photometric: exposure/gamma, per-channel gain, motion blur, glare, noise.
    if rng.random() < 0.7:
        n = int(rng.integers(2, 8))
        a = rng.uniform(0, math.pi)
        dx, dy = math.cos(a), math.sin(a)
        acc = np.zeros_like(out)
        for i in range(n):
            t = i - (n - 1) / 2
            acc += np.roll(out, (int(round(t * dy)), int(round(t * dx))), axis=(0, 1))
        out = acc / n
    if rng.random() < 0.4:
        gx, gy = rng.uniform(0, SIZE, 2)
        rad = rng.uniform(10, 70)
        yy, xx = np.mgrid[0:SIZE, 0:SIZE]
        out = out + rng.uniform(0.3, 1.0) * np.exp(-((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * rad * rad))[..., None]
    out = out * rng.uniform(0.5, 1.5) * rng.uniform(0.85, 1.15, 3)[None, None, :]
    out = np.clip(out, 0, 1) ** rng.uniform(0.6, 1.6)
    out = out + rng.normal(0, rng.uniform(0, 0.05), out.shape)
    return np.clip(out, 0, 1).astype(np.float32), new_gates


def scale_gates(gates, w, h):
    return [q * np.array([SIZE / w, SIZE / h], dtype=np.float32) for q in gates]


def normalise(img):
    return ((img - np.array(MEAN, dtype=np.float32)) / np.array(STD, dtype=np.float32)).transpose(2, 0, 1)


def gaussian(hm, cx, cy, sigma):
    yy, xx = np.mgrid[0:OUT, 0:OUT]
    g = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma * sigma))
    np.maximum(hm, g, out=hm)
    # The nearest cell is the focal loss's positive; the float-centred bump around it keeps the sub-cell position.
    hm[min(max(int(round(cy)), 0), OUT - 1), min(max(int(round(cx)), 0), OUT - 1)] = 1.0


def targets(gates):
    """Centre heatmap (1), corner offsets in input px with a weight mask (8), corner heatmaps (4), at stride 4.

    Offsets are taught on the 3x3 cells around the centre so a peak one cell off still decodes right corners.
    """
    hm = np.zeros((5, OUT, OUT), dtype=np.float32)
    off = np.zeros((8, OUT, OUT), dtype=np.float32)
    wgt = np.zeros((OUT, OUT), dtype=np.float32)
    # Big gates first, so where 3x3 neighbourhoods overlap the smaller (nearer the centre) gate wins.
    order = sorted(gates, key=lambda q: -quad_area(q))
    for q in order:
        c = q.mean(axis=0)
        size = math.sqrt(max(quad_area(q), 1.0))
        sigma = max(0.6, size / STRIDE / 6)
        gx, gy = c[0] / STRIDE - 0.5, c[1] / STRIDE - 0.5  # output-cell coordinates (cell j centre at j)
        if -0.5 <= gx < OUT - 0.5 and -0.5 <= gy < OUT - 0.5:
            gaussian(hm[0], gx, gy, sigma)
            ix, iy = int(round(gx)), int(round(gy))
            for yy in range(iy - 1, iy + 2):
                for xx in range(ix - 1, ix + 2):
                    if 0 <= xx < OUT and 0 <= yy < OUT:
                        cell = np.array([xx * STRIDE + STRIDE / 2, yy * STRIDE + STRIDE / 2], dtype=np.float32)
                        off[:, yy, xx] = (q - cell).reshape(-1)
                        wgt[yy, xx] = 1.0 if (xx == ix and yy == iy) else 0.5
        csig = max(0.6, min(2.0, size / STRIDE / 10))
        for k in range(4):
            kx, ky = q[k, 0] / STRIDE - 0.5, q[k, 1] / STRIDE - 0.5
            if -0.5 <= kx < OUT - 0.5 and -0.5 <= ky < OUT - 0.5:
                gaussian(hm[1 + k], kx, ky, csig)
    return hm, off, wgt


def quad_area(q):
    x, y = q[:, 0], q[:, 1]
    return abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))) / 2
