#!/usr/bin/python3
"""Writes the run-wise split of the real frames as labels files for `racepilot eval` (never committed: the frames'
license allows no redistribution, so the labels stay in ../shared and the split lives in models/.work/).

  /usr/bin/python3 models/split.py     → models/.work/val.csv (ids >= 296) and models/.work/train.csv
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gatedet.data import VAL_FIRST_ID, frame_id  # noqa: E402

src = os.path.join(HERE, "..", "..", "shared", "data", "gates", "airr-onboard", "corners.csv")
work = os.path.join(HERE, ".work")
os.makedirs(work, exist_ok=True)
rows = [r for r in open(src).read().splitlines() if r.strip()]
val = [r for r in rows if frame_id(r.split(",")[0]) >= VAL_FIRST_ID]
train = [r for r in rows if frame_id(r.split(",")[0]) < VAL_FIRST_ID]
for name, part in (("val.csv", val), ("train.csv", train)):
    with open(os.path.join(work, name), "w") as f:
        f.write("\n".join(part) + "\n")
    print(f"{os.path.join(work, name)}: {len(part)} gates in {len({r.split(',')[0] for r in part})} images")
