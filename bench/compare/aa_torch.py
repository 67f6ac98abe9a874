#!/usr/bin/env python3
"""aa_torch.py: the reference AutoAttack (Croce and Hein 2020, the authors'
PyTorch code, github.com/fra31/auto-attack) on an advc model, for
aa-vs-torch.sh.

  aa_torch.py --autoattack DIR --npz M.npz --spec cnn-small --act relu
              --data DIR --n 1000 --eps 0.3 --threads 1 [--seed 0]

DIR is a checkout of fra31/auto-attack (the folder holding the
`autoattack` package); nothing of it is part of advc.  The weights come
from `advc export --npz` and go into the PyTorch twin of the model
(torch_models.py, strict load).  The images are the first N of the test
split of an IDX data directory (MNIST, Fashion-MNIST), scaled to [0, 1]
like advc's.  Runs AutoAttack(norm='Linf', version='standard') with
run_standard_evaluation(bs=250) and prints one key=value line: clean
accuracy, robust accuracy after each attack (read from the reference's
log), the final robust accuracy recomputed on its output, the wall time
of the attack and the process's peak memory.  A benchmark tool: advc never
imports it.
"""
import argparse
import contextlib
import os
import resource
import struct
import sys
import tempfile
import time

import numpy as np
import torch

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_models as tm  # noqa: E402

# The reference's batch size in its README examples; it only groups work.
BATCH = 250


def read_idx(path):
    """An IDX file (big-endian dims, then uint8 data) as a numpy array."""
    with open(path, "rb") as f:
        b = f.read()
    nd = b[3]
    dims = struct.unpack_from(">%dI" % nd, b, 4)
    return np.frombuffer(b, np.uint8, offset=4 + 4 * nd).reshape(dims)


def after_each(log):
    """{'apgd-ce': 0.597, ...} from the reference's 'robust accuracy after
    APGD-CE: 59.70% ...' lines."""
    out = {}
    with open(log) as f:
        for line in f:
            if line.startswith("robust accuracy after "):
                words = line.split()
                out[words[3].rstrip(":").lower()] = float(
                    words[4].rstrip("%")) / 100.0
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--autoattack", required=True)
    p.add_argument("--npz", required=True)
    p.add_argument("--spec", required=True)
    p.add_argument("--act", default="relu")
    p.add_argument("--data", required=True)
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--first", type=int, default=0)
    p.add_argument("--eps", type=float, default=0.3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    sys.path.insert(0, a.autoattack)
    from autoattack import AutoAttack  # the reference, from the user's path

    rows = slice(a.first, a.first + a.n)
    xs = read_idx(os.path.join(a.data, "t10k-images-idx3-ubyte"))[rows]
    ys = read_idx(os.path.join(a.data, "t10k-labels-idx1-ubyte"))[rows]
    x = torch.from_numpy(xs.astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(ys.astype(np.int64))
    model = tm.load_npz(a.npz, a.spec, a.act, tuple(x.shape[1:]), 10)
    with torch.no_grad():
        clean = (model(x).argmax(1) == y).float().mean().item()

    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "aa.log")
        with contextlib.redirect_stdout(sys.stderr):  # its log, not ours
            aa = AutoAttack(model, norm="Linf", eps=a.eps,
                            version="standard", seed=a.seed, device="cpu",
                            log_path=log)
            t0 = time.time()
            xa = aa.run_standard_evaluation(x, y, bs=BATCH)
            wall = time.time() - t0
        steps = after_each(log)
    with torch.no_grad():
        robust = (model(xa).argmax(1) == y).float().mean().item()
        linf = (xa - x).abs().max().item()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    fields = ["side=torch", f"first={a.first}", f"n={a.n}", f"eps={a.eps:g}",
              f"threads={a.threads}", f"seed={a.seed}",
              f"clean_acc={clean:.4f}"]
    fields += [f"after_{k}={v:.4f}" for k, v in steps.items()]
    fields += [f"robust_acc={robust:.4f}", f"max_linf={linf:.5f}",
               f"seconds={wall:.1f}", f"max_rss_mb={rss}"]
    print(" ".join(fields))


if __name__ == "__main__":
    main()
