"""ONNX export with the metadata the daemon reads instead of hard-coding (checked by src/perception/model-info.ts)."""
import json

import numpy as np
import onnx
import torch

from . import data
from .net import OUT_CH, Exported, flops, params

MODEL_VERSION = "1.1.0"
FORMAT = "racepilot-gate-detector/1"


def selftest_input(size):
    """A fixed pattern both sides can generate: value i of the NCHW batch-1 tensor = ((i*37+11) % 101)/50 - 1."""
    n = 3 * size * size
    i = np.arange(n, dtype=np.int64)
    return (((i * 37 + 11) % 101) / 50.0 - 1.0).astype(np.float32).reshape(1, 3, size, size)


def export(net, path, variant, extra):
    net.eval()
    exp = Exported(net).eval()
    size = data.SIZE
    x = torch.from_numpy(selftest_input(size))
    with torch.no_grad():
        ref = exp(x).numpy()[0]
    torch.onnx.export(exp, x, path, input_names=["image"], output_names=["heads"], opset_version=13,
                      dynamic_axes={"image": {0: "batch"}, "heads": {0: "batch"}}, do_constant_folding=True)
    model = onnx.load(path)
    out = data.OUT
    meta = {
        "racepilot.format": FORMAT,
        "racepilot.model_version": MODEL_VERSION,
        "racepilot.variant": variant,
        "racepilot.input_name": "image",
        "racepilot.input_shape": json.dumps(["batch", 3, size, size]),
        "racepilot.input_channels": "rgb",
        "racepilot.input_resize": "whole frame stretched to the input size, bilinear at pixel centres, edge clamped",
        "racepilot.input_scale": json.dumps(1 / 255),
        "racepilot.mean": json.dumps(list(data.MEAN)),
        "racepilot.std": json.dumps(list(data.STD)),
        "racepilot.output_name": "heads",
        "racepilot.output_shape": json.dumps(["batch", OUT_CH, out, out]),
        "racepilot.output_layout": json.dumps({
            "centre": [0, 1], "corner_offsets": [1, 9], "corner_heatmaps": [9, 13],
            "corner_order": ["TL", "TR", "BR", "BL"],
            "offsets": "x,y per corner, input pixels from the cell centre (x*stride+stride/2, y*stride+stride/2)",
            "heatmaps": "sigmoid probabilities",
        }),
        "racepilot.stride": str(data.STRIDE),
        "racepilot.flops": str(flops(net.widths, size)),
        "racepilot.params": str(params(net)),
        "racepilot.widths": json.dumps(net.widths),
        "racepilot.selftest": json.dumps({
            "input": "NCHW batch 1, value i = ((i*37+11) % 101)/50 - 1",
            "channel_sums": [float(v) for v in ref.reshape(OUT_CH, -1).sum(axis=1)],
            "samples": [[int(c), int(y), int(xx), float(ref[c, y, xx])] for c, y, xx in
                        [(0, 10, 10), (0, 24, 30), (3, 5, 40), (8, 40, 7), (10, 20, 20), (12, 47, 47)]],
            "abs_tol": 1e-3, "sum_rel_tol": 1e-3, "sum_abs_tol": 0.05,
        }),
    }
    meta.update(extra)
    del model.metadata_props[:]
    for k, v in meta.items():
        p = model.metadata_props.add()
        p.key, p.value = k, str(v)
    model.doc_string = f"racepilot gate detector {MODEL_VERSION} ({variant}); see models/README.md"
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return meta
