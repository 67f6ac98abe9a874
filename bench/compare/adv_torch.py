#!/usr/bin/env python3
"""adv_torch.py: the PyTorch side of the adversarial-workload comparison.

Times, on CPU, the same `cnn-small`, `cnn`, `resnet` and `msdnet`
architectures as train_torch.py (imported from it) on 1x28x28 inputs,
batch 128, L-inf eps 0.3 (multi-exit msdnet: every loss, the attacks'
included, is the cross-entropy summed over the exits, as advc's default
--exit-mode sum; the evaluation scores the final exit):

  train --recipe fgsm-rs   FGSM with a random start (Wong et al., ICLR 2020):
                           delta ~ U(-eps, eps), one signed step of 1.25 eps,
                           projected; train on x + delta (Adam, lr 1e-3).
                           Two forward/backward passes per batch.
  train --recipe pgd       PGD-K adversarial training (Madry et al.), K steps
                           (--steps, default 7) of 2.5 eps / K from a random
                           start, then a training step on the result.
  attack --attack pgd      PGD-K evaluation (--steps, default 20) of
                           2.5 eps / K from a random start, model.eval(),
                           then one forward to score x_adv.

The attack's passes ask autograd for the input gradient only
(torch.autograd.grad on delta), so no weight gradient is computed there,
like advc's ATTACK passes.  Mode of the attack's passes, as in advc: train
mode inside adversarial training (Wong et al.'s and Madry et al.'s code,
advc's recipe default; --attack-mode eval for the other choice), eval mode
for the PGD evaluation.  Prints one key=value line like advc-bench:
img_per_s is the median over --reps runs (each --iters batches for train,
one batch for attack); max_rss_mb is this process's peak resident memory.
Data: uniform random images and labels (speed does not depend on the
values: every sample takes every step).  A benchmark tool: never a
dependency of advc.
"""
import argparse
import os
import sys

import torch

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_torch import (MODELS, build, final_logits, loss_fn,  # noqa: E402
                         nparams, time_runs)  # (the same models)


def input_grad(model, x, delta, y):
    """dCE/d(delta) at x + delta, without weight gradients."""
    delta.requires_grad_(True)
    loss = loss_fn(model(x + delta), y)
    (g,) = torch.autograd.grad(loss, [delta])
    delta.requires_grad_(False)
    return g


def project(delta, x, eps):
    """delta into [-eps, eps] and x + delta into [0, 1]."""
    delta.clamp_(-eps, eps)
    return torch.max(torch.min(delta, 1 - x), -x)


def pgd(model, x, y, eps, alpha, steps):
    """L-inf PGD from a uniform random start; returns the final delta."""
    delta = project(torch.empty_like(x).uniform_(-eps, eps), x, eps)
    for _ in range(steps):
        g = input_grad(model, x, delta, y)
        delta = project(delta + alpha * g.sign(), x, eps)
    return delta


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["train", "attack"])
    ap.add_argument("--model", default="cnn", choices=sorted(MODELS))
    ap.add_argument("--recipe", default="fgsm-rs", choices=["fgsm-rs", "pgd"])
    ap.add_argument("--attack", default="pgd", choices=["pgd"])
    ap.add_argument("--steps", type=int, default=0,
                    help="PGD steps (train: 7, attack: 20)")
    ap.add_argument("--eps", type=float, default=0.3)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--iters", type=int, default=3,
                    help="training batches per timed run")
    ap.add_argument("--attack-mode", default="train", choices=["eval", "train"],
                    help="mode of the training attack's passes")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = build(a.model)
    eps = a.eps
    iters = a.iters if a.command == "train" else 1
    xs = torch.rand(iters, a.batch, 1, 28, 28)
    ys = torch.randint(0, 10, (iters, a.batch))

    if a.command == "train":
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        steps = 1 if a.recipe == "fgsm-rs" else (a.steps or 7)
        alpha = 1.25 * eps if a.recipe == "fgsm-rs" else 2.5 * eps / steps

        def run():
            for s in range(iters):
                x, y = xs[s], ys[s]
                model.train(a.attack_mode == "train")
                for p in model.parameters():
                    p.requires_grad_(False)
                delta = pgd(model, x, y, eps, alpha, steps)
                for p in model.parameters():
                    p.requires_grad_(True)
                model.train()
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(x + delta), y)
                loss.backward()
                opt.step()
            return float(loss)
        head = (f"bench=train-torch model={a.model} recipe={a.recipe} "
                f"steps={steps} attack_mode={a.attack_mode}")
    else:
        steps = a.steps or 20
        alpha = 2.5 * eps / steps
        model.eval()
        for p in model.parameters():
            p.requires_grad_(False)

        def run():
            x, y = xs[0], ys[0]
            delta = pgd(model, x, y, eps, alpha, steps)
            with torch.no_grad():
                pred = final_logits(model(x + delta)).argmax(1)
            return float((pred == y).float().mean())
        head = (f"bench=attack-torch model={a.model} attack={a.attack} "
                f"steps={steps}")

    sec, cores, rss = time_runs(run, a.reps)
    print(f"{head} eps={eps:g} threads={a.threads} batch={a.batch} "
          f"params={nparams(model)} "
          f"img_per_s={iters * a.batch / sec:.1f} "
          f"max_rss_mb={rss:.1f} cores_used={cores:.2f} "
          f"torch={torch.__version__}")


if __name__ == "__main__":
    main()
