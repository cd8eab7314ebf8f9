#!/usr/bin/python3
"""bench/compare_pytorch_cpu.py — CPU training-step throughput of the quickstart model, sparsedd vs
PyTorch, measured in the same run.

Model: mnist_mlp_300_100 (784-300-100-10, ReLU), PyTorch default init (kaiming_uniform(a=sqrt(5)) on
weights, U(+-1/sqrt(fan_in)) on biases — the family sparsedd uses), SGD lr 0.1 without momentum or
weight decay, batch 128, float32, 16 pre-normalised random batches of Fashion-MNIST shape cycled.
Each round times PyTorch for --steps steps, then runs bench/mlp_step_bench (the same step in
sparsedd, Google Benchmark, >= 1 s) once; the medians over --rounds rounds are compared. Interleaving
the two keeps background load on a shared machine from favouring either side.

Threads: --threads N sets torch.set_num_threads(N), OMP_NUM_THREADS=N and OPENBLAS_NUM_THREADS=N for
this process (before torch loads OpenBLAS), and SPARSEDD_THREADS=N for the sparsedd binary (its own
pool; OpenMP and OpenBLAS one thread each, as the binary runs by default). Default: every core.

Run with Debian's PyTorch (apt-get install python3-torch):
  /usr/bin/python3 bench/compare_pytorch_cpu.py --bench build-n/bench/mlp_step_bench
Prints images/s for both and the ratio sparsedd / PyTorch (> 1: sparsedd is faster).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

BATCH, PIXELS, CLASSES, NUM_BATCHES = 128, 28 * 28, 10, 16
MEAN, STD = 0.2860, 0.3530  # Fashion-MNIST normalisation


def torch_images_per_s(torch, model, opt, batches, steps):
    """Runs `steps` training steps; returns (images per wall second, images per CPU second)."""
    loss_fn = torch.nn.functional.cross_entropy
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(steps):
        x, y = batches[i % len(batches)]
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    return steps * BATCH / dt, steps * BATCH / dc


def sparsedd_images_per_s(bench, threads):
    """Runs mlp_step_bench once; returns (images per wall second, images per CPU second, context)."""
    env = dict(os.environ, SPARSEDD_THREADS=str(threads), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([bench, "--benchmark_format=json", "--benchmark_filter=BM_MlpStep"], env=env,
                         check=True, capture_output=True, text=True).stdout
    doc = json.loads(out)
    for b in doc["benchmarks"]:
        if "error_message" in b:
            sys.exit(f"mlp_step_bench failed: {b['error_message']}")
        assert b["time_unit"] == "us", b["time_unit"]
        return b["items_per_second"], BATCH / (b["cpu_time"] * 1e-6), doc.get("context", {})
    sys.exit("mlp_step_bench printed no benchmark")


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench", default=os.path.join(root, "build-n", "bench", "mlp_step_bench"),
                    help="path of the mlp_step_bench binary")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for both (default: all cores)")
    ap.add_argument("--steps", type=int, default=400, help="timed PyTorch steps per round")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds; medians are reported")
    args = ap.parse_args()
    if not os.path.exists(args.bench):
        sys.exit(f"{args.bench} does not exist; build it with -DSDD_BUILD_BENCH=ON (ninja mlp_step_bench) "
                 "or pass --bench PATH")

    # torch.set_num_threads does not reach OpenBLAS (Debian's torch calls it for its matmuls), and
    # OpenBLAS reads its thread count when loaded: set it for this process before importing torch.
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import torch  # Debian python3-torch; imported late so --help works without it
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(PIXELS, 300), torch.nn.ReLU(), torch.nn.Linear(300, 100),
                                torch.nn.ReLU(), torch.nn.Linear(100, CLASSES))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    g = torch.Generator().manual_seed(42)
    batches = [((torch.rand(BATCH, PIXELS, generator=g) - MEAN) / STD,
                torch.randint(0, CLASSES, (BATCH,), generator=g)) for _ in range(NUM_BATCHES)]
    torch_images_per_s(torch, model, opt, batches, 50)  # warm-up

    ours, theirs, ours_cpu, theirs_cpu, ctx = [], [], [], [], {}
    for r in range(args.rounds):
        w, c = torch_images_per_s(torch, model, opt, batches, args.steps)
        theirs.append(w)
        theirs_cpu.append(c)
        w, c, ctx = sparsedd_images_per_s(args.bench, args.threads)
        ours.append(w)
        ours_cpu.append(c)
        print(f"round {r + 1}: pytorch {theirs[-1]:8.0f} images/s ({theirs_cpu[-1]:8.0f} per CPU-s)   "
              f"sparsedd {ours[-1]:8.0f} images/s ({ours_cpu[-1]:8.0f} per CPU-s)", flush=True)

    mt, mo = statistics.median(theirs), statistics.median(ours)
    mtc, moc = statistics.median(theirs_cpu), statistics.median(ours_cpu)
    print(f"torch {torch.__version__}, torch threads {torch.get_num_threads()} (OPENBLAS_NUM_THREADS={args.threads}), "
          f"sparsedd threads {ctx.get('sparsedd_threads', '?')} (omp {ctx.get('omp_max_threads', '?')}, "
          f"openblas {ctx.get('openblas_threads', '?')})")
    print(f"median pytorch  images/s: {mt:.0f}")
    print(f"median sparsedd images/s: {mo:.0f}")
    print(f"median images per CPU-second: pytorch {mtc:.0f}, sparsedd {moc:.0f} "
          f"(ratio {moc / mtc:.2f}; process CPU time, all threads: less sensitive to other load)")
    print(f"ratio sparsedd/pytorch: {mo / mt:.2f}")


if __name__ == "__main__":
    main()
