#!/usr/bin/env python3
"""interop_torch.py: the PyTorch side of interop-vs-torch.sh.

  forward --spec S [--act A] --npz M.npz --data DIR --n N --logits OUT.npy
          [--resave R.npz]
      loads an archive (advc export) into torch_models.build(S, A), strict,
      and writes every exit's logits on the first N test images as float32
      (exits, N, classes), eval mode; --resave R.npz saves the loaded
      state_dict again with numpy.savez (it must equal M.npz byte for byte).
  train --spec S [--act A] --npz M.npz --data DIR --out T.npz [--steps K]
      starts from the archive, takes K Adam steps (lr 1e-3, batch 100) on
      training images in train mode, so weights, batch-norm running
      statistics and num_batches_tracked all move away from advc's, and
      saves the state_dict with numpy.savez (torch_models.save_npz).
  diff A.npy B.npy
      prints max_abs=<max |A - B|> over all elements (shapes must agree).

MNIST-style IDX data only (MNIST, Fashion-MNIST).  Single-threaded
PyTorch (the logits do not depend on it; this is not a timing).  A
benchmark tool: never a dependency of advc.
"""
import argparse
import glob
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_models as tm  # noqa: E402

IDX_IMAGES = 16  # IDX image header: magic, count, rows, cols (4 bytes each)
IDX_LABELS = 8   # IDX label header: magic, count


def read_idx(data, split, n):
    """First n images (n, 1, h, w) in [0, 1] and labels of the split
    ('train' or 't10k'), either file-name spelling."""
    def find(kind):
        dotted = kind.replace("-", ".")
        pats = [f"{split}-{kind}-ubyte", f"{split}-{dotted}-ubyte"]
        for p in pats:
            hits = glob.glob(os.path.join(data, p))
            if hits:
                return hits[0]
        raise SystemExit(f"interop_torch: no {split} {kind} file in {data}")
    raw = np.fromfile(find("images-idx3"), dtype=np.uint8)
    h, w = int.from_bytes(raw[8:12], "big"), int.from_bytes(raw[12:16], "big")
    x = raw[IDX_IMAGES:IDX_IMAGES + n * h * w].reshape(-1, 1, h, w)
    y = np.fromfile(find("labels-idx1"), dtype=np.uint8)[IDX_LABELS:][:n]
    # the same float32 division advc does (byte / 255)
    return torch.from_numpy(x.astype(np.float32) / np.float32(255)), \
        torch.from_numpy(y.astype(np.int64))


def all_exits(model, x):
    if hasattr(model, "forward_exits"):
        return model.forward_exits(x)
    return [model(x)]


def cmd_forward(a):
    model = tm.load_npz(a.npz, a.spec, a.act)
    x, _ = read_idx(a.data, "t10k", a.n)
    with torch.no_grad():  # per batch of 250: a list of exits' logits
        zs = [all_exits(model, x[i:i + 250]) for i in range(0, len(x), 250)]
    out = np.stack([np.concatenate([z[e].numpy() for z in zs])
                    for e in range(len(zs[0]))])
    np.save(a.logits, out.astype(np.float32))
    if a.resave:
        tm.save_npz(model, a.resave)


def cmd_train(a):
    torch.manual_seed(a.seed)
    model = tm.load_npz(a.npz, a.spec, a.act).train()
    x, y = read_idx(a.data, "train", a.steps * 100)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for s in range(a.steps):
        xb, yb = x[s * 100:(s + 1) * 100], y[s * 100:(s + 1) * 100]
        opt.zero_grad()
        loss = sum(F.cross_entropy(z, yb) for z in all_exits(model, xb))
        loss.backward()
        opt.step()
    tm.save_npz(model.eval(), a.out)


def cmd_diff(a):
    p, q = np.load(a.a), np.load(a.b)
    if p.shape != q.shape:
        raise SystemExit(f"interop_torch: shapes {p.shape} and {q.shape}")
    d = np.abs(p.astype(np.float64) - q.astype(np.float64))
    scale = np.abs(p).max()
    print(f"max_abs={d.max():.3g} max_logit={scale:.3g}")


def main():
    torch.set_num_threads(1)
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("forward", "train"):
        p = sub.add_parser(name)
        p.add_argument("--spec", required=True)
        p.add_argument("--act", default="relu")
        p.add_argument("--npz", required=True)
        p.add_argument("--data", required=True)
    sub.choices["forward"].add_argument("--n", type=int, default=1000)
    sub.choices["forward"].add_argument("--logits", required=True)
    sub.choices["forward"].add_argument("--resave")
    sub.choices["train"].add_argument("--out", required=True)
    sub.choices["train"].add_argument("--steps", type=int, default=20)
    sub.choices["train"].add_argument("--seed", type=int, default=1)
    p = sub.add_parser("diff")
    p.add_argument("a")
    p.add_argument("b")
    a = ap.parse_args()
    {"forward": cmd_forward, "train": cmd_train, "diff": cmd_diff}[a.cmd](a)


if __name__ == "__main__":
    main()
