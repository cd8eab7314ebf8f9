#!/usr/bin/env python3
"""bench/quickstart_flops.py — the arithmetic a finished MLP lottery run asked for, level by level.

Reads level_*/main/mask.safetensors of a run directory (replicate_R) and counts, per level, the
multiply-adds (x2 = FLOPs) of training (forward, weight gradients, input gradients of every layer but
the first) and of the per-epoch evaluation of the train and test sets, once over the kept weights and
once as dense products (what sgemm computes at levels above the sparse kernels' threshold). Dividing by
a sgemm rate gives a lower bound for the level's time at that rate. Standard library only.

usage: python3 bench/quickstart_flops.py RUN/replicate_1 [--rate GFLOPS] [--epochs 60] [--batch 128]
       [--train 60000] [--test 10000] [--raw]
--raw prints one line per level instead: level, kept weights, all weights, FLOPs kept, FLOPs dense.
"""
import argparse
import array
import json
import os
import re
import struct
import sys

DTYPES = {"F32": "f", "I32": "i", "I64": "q", "F64": "d", "U8": "B", "BOOL": "B"}


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        values = array.array(DTYPES[info["dtype"]])
        values.frombytes(blob[8 + n + a:8 + n + b])
        out[name] = (info["shape"], values)
    return out


def layer_order(name):
    # fc_layers.0, fc_layers.1, ..., then fc (the output layer): the forward order of the MLP presets.
    m = re.match(r"fc_layers\.(\d+)\.weight$", name)
    return (0, int(m.group(1))) if m else (1, 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", help="a replicate directory holding level_L/main/mask.safetensors")
    ap.add_argument("--rate", type=float, default=144.0, help="GFLOP/s for the bound (default: 2 cores x 72)")
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--train", type=int, default=60000)
    ap.add_argument("--test", type=int, default=10000)
    ap.add_argument("--raw", action="store_true", help="integers per level (tests)")
    args = ap.parse_args()
    names = os.listdir(args.run) if os.path.isdir(args.run) else []
    levels = sorted(int(d.split("_")[1]) for d in names if re.fullmatch(r"level_\d+", d))
    if not levels:
        print(f"error: no level_* directories under {args.run}; pass a replicate directory", file=sys.stderr)
        sys.exit(2)
    steps = -(-args.train // args.batch)   # iterations per epoch (the last batch is partial)
    rate = args.rate * 1e9
    total_kept = total_dense = 0.0
    if not args.raw:
        print(f"{'level':>5} {'kept %':>7} {'TFLOP kept':>11} {'TFLOP dense':>12} {'s kept':>7} {'s dense':>8}")
    for level in levels:
        path = os.path.join(args.run, f"level_{level}", "main", "mask.safetensors")
        if not os.path.exists(path):
            print(f"error: {path} is missing; that level has not been pruned yet", file=sys.stderr)
            sys.exit(2)
        masks = read_safetensors(path)
        layers = sorted(masks, key=layer_order)
        kept = [sum(1 for v in masks[n][1] if v != 0) for n in layers]
        dense = [masks[n][0][0] * masks[n][0][1] for n in layers]

        def flops(sizes):
            # per step: forward and weight gradient over every layer, input gradient over all but the first
            step = 2 * args.batch * (2 * sum(sizes) + sum(sizes[1:]))
            evaluation = 2 * (args.train + args.test) * sum(sizes)
            return args.epochs * (steps * step + evaluation)

        fk, fd = flops(kept), flops(dense)
        total_kept += fk
        total_dense += fd
        if args.raw:
            print(level, sum(kept), sum(dense), fk, fd)
            continue
        print(f"{level:>5} {100 * sum(kept) / sum(dense):>7.2f} {fk / 1e12:>11.2f} {fd / 1e12:>12.2f} "
              f"{fk / rate:>7.0f} {fd / rate:>8.0f}")
    if not args.raw:
        print(f"total: {total_kept / 1e12:.1f} TFLOP over the kept weights ({total_kept / rate:.0f} s at "
              f"{args.rate:g} GFLOP/s), {total_dense / 1e12:.1f} TFLOP as dense products ({total_dense / rate:.0f} s)")


if __name__ == "__main__":
    main()
