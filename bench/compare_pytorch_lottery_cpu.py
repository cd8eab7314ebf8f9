#!/usr/bin/python3
"""bench/compare_pytorch_lottery_cpu.py — a whole lottery experiment on the CPU, sparsedd against the
same loop written in PyTorch, timed in the same run.

Experiment: mnist_mlp_300_100 on Fashion-MNIST with 20% random labels, SGD lr 0.1 (no momentum),
batch 128, --epochs per level, levels 0..--levels, global magnitude pruning of 20% of the remaining
weights per level with fc.weight kept dense, rewinding to the initial weights: the quickstart with
fewer epochs. sparsedd runs it as `sparsedd lottery ...` (fresh results directory each round).

The PyTorch side is the original's loop (SPEC 6.3, 7.3) written as lean as PyTorch allows: every
epoch evaluates the train and test sets (eval passes, batch 128), then trains one epoch; the masked
model re-applies w <- w * m before every forward as the original's wrapper does. It is FASTER than
the original: the whole dataset is decoded and normalised once into one tensor, while the original
runs torchvision transforms image by image in a DataLoader. So the ratio understates the gain over
the original.

Threads: --threads N for both: PyTorch through torch.set_num_threads, OMP_NUM_THREADS and
OPENBLAS_NUM_THREADS; sparsedd through SPARSEDD_THREADS (its own pool; OpenMP and OpenBLAS one thread
each, as the binary runs by default).
Rounds alternate PyTorch and sparsedd; medians are reported with the ratio PyTorch time / sparsedd
time (> 1: sparsedd is faster).

Run with Debian's PyTorch (apt-get install python3-torch) and Debian's dataset-fashion-mnist:
  /usr/bin/python3 bench/compare_pytorch_lottery_cpu.py --sparsedd build/cpu/sparsedd
"""
import argparse
import gzip
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

DATA = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530  # Fashion-MNIST normalisation


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(torch):
    xs, ys = [], []
    for split in ("train", "t10k"):
        x = read_idx(os.path.join(DATA, f"{split}-images-idx3-ubyte.gz")).astype(np.float32) / 255.0
        xs.append(torch.from_numpy(((x - MEAN) / STD).reshape(len(x), -1)))
        ys.append(torch.from_numpy(read_idx(os.path.join(DATA, f"{split}-labels-idx1-ubyte.gz")).astype(np.int64)))
    rs = np.random.RandomState(0)
    y = ys[0].numpy().copy()
    idx = rs.choice(len(y), int(0.2 * len(y)), replace=False)
    y[idx] = rs.randint(0, 10, len(idx))
    return xs[0], torch.from_numpy(y), xs[1], ys[1]


def pytorch_lottery(torch, data, levels, epochs, batch=128):
    """The lottery loop; returns (seconds, last test accuracy)."""
    xtr, ytr, xte, yte = data
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 300), torch.nn.ReLU(), torch.nn.Linear(300, 100),
                                torch.nn.ReLU(), torch.nn.Linear(100, 10))
    init = {k: v.clone() for k, v in model.state_dict().items()}
    prunable = ["0.weight", "2.weight", "4.weight"]
    masks = {k: torch.ones_like(init[k]) for k in prunable}
    params = dict(model.named_parameters())

    def apply_masks():
        with torch.no_grad():
            for k, m in masks.items():
                params[k].mul_(m)

    def evaluate(x, y):
        model.eval()
        correct = torch.zeros(())
        with torch.no_grad():
            for i in range(0, len(x), batch):
                apply_masks()
                correct += (model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum()
        return float(correct) / len(x)

    t0 = time.perf_counter()
    acc = 0.0
    for level in range(levels + 1):
        if level > 0:  # prune 20% of the remaining prunable weights (fc.weight = 4.weight kept), global magnitude
            final = model.state_dict()
            alive = torch.cat([final[k][masks[k] > 0].abs() for k in prunable if k != "4.weight"])
            k = int(np.ceil(0.2 * alive.numel()))
            threshold = torch.kthvalue(alive, k).values
            for name in prunable:
                if name != "4.weight":
                    masks[name] = masks[name] * (final[name].abs() > threshold).float()
        model.load_state_dict(init)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        g = torch.Generator().manual_seed(level)
        for ep in range(epochs + 1):
            evaluate(xtr, ytr)
            acc = evaluate(xte, yte)
            if ep == epochs:
                break
            model.train()
            order = torch.randperm(len(xtr), generator=g)
            for i in range(0, len(order), batch):
                b = order[i:i + batch]
                opt.zero_grad()
                apply_masks()
                torch.nn.functional.cross_entropy(model(xtr[b]), ytr[b]).backward()
                opt.step()
    return time.perf_counter() - t0, acc


def sparsedd_lottery(exe, levels, epochs, threads):
    root = tempfile.mkdtemp(prefix="sdd_cmp_")
    env = dict(os.environ, SPARSEDD_THREADS=str(threads), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    cmd = [exe, "lottery", "--default_hparams=mnist_mlp_300_100", "--dataset_name=fashion_mnist",
           f"--training_steps={epochs}ep", f"--levels={levels}", "--random_labels_fraction=0.2",
           "--fix_all_random_seeds=1", f"--results_root={root}", "--quiet"]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    shutil.rmtree(root, ignore_errors=True)
    if r.returncode != 0:
        sys.exit(f"sparsedd failed ({r.returncode}): {r.stderr.strip()}")
    return dt


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sparsedd", default=os.path.join(root, "build", "cpu", "sparsedd"), help="the sparsedd binary")
    ap.add_argument("--levels", type=int, default=20, help="last level (default 20, as the quickstart)")
    ap.add_argument("--epochs", type=int, default=1, help="epochs per level (the quickstart has 60)")
    ap.add_argument("--threads", type=int, default=1, help="threads for both (default 1)")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians are reported")
    args = ap.parse_args()
    if not os.path.exists(args.sparsedd):
        sys.exit(f"{args.sparsedd} does not exist; build it (scripts/test.sh or cmake) or pass --sparsedd PATH")
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import torch  # Debian python3-torch; imported late so --help works without it
    torch.set_num_threads(args.threads)
    data = load(torch)

    theirs, ours = [], []
    for r in range(args.rounds):
        t, acc = pytorch_lottery(torch, data, args.levels, args.epochs)
        theirs.append(t)
        ours.append(sparsedd_lottery(args.sparsedd, args.levels, args.epochs, args.threads))
        print(f"round {r + 1}: pytorch {theirs[-1]:7.1f} s (last test accuracy {100 * acc:.2f}%)   "
              f"sparsedd {ours[-1]:7.1f} s", flush=True)
    mt, mo = statistics.median(theirs), statistics.median(ours)
    print(f"torch {torch.__version__}, {args.threads} thread(s); levels 0..{args.levels}, {args.epochs} epoch(s) per level")
    print(f"median pytorch  seconds: {mt:.1f}")
    print(f"median sparsedd seconds: {mo:.1f}")
    print(f"ratio pytorch/sparsedd: {mt / mo:.2f}")


if __name__ == "__main__":
    main()
