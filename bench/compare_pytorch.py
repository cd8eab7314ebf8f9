#!/usr/bin/env python3
"""bench/compare_pytorch.py — PyTorch reference for bench/train_step_bench.cu.

Trains the same model as our bench (ResNet-18 CIFAR variant: 3x3 stem, stride 1, no maxpool,
BasicBlocks [2, 2, 2, 2], 10 classes) on the same GPU at batch 128 with SGD (momentum 0.9,
weight decay 5e-4), cross-entropy, random inputs, in fp32 and TF32, and prints images/s and the
ratio ours / PyTorch. Our numbers come from --ours-fp32 / --ours-tf32 or from a file of our bench
output (--ours-file, the `RESULT train_step resnet18_b128_<p>_images_per_s <v> images/s` lines).

Output lines use the same format as the C++ benches:
  RESULT pytorch resnet18_b128_<p>_images_per_s <value> images/s
  RESULT pytorch ratio_ours_over_pytorch_<p> <value> ratio
"""
import argparse
import re
import sys
import time


def parse_ours(path):
    ours = {}
    pat = re.compile(r"^RESULT train_step resnet18_b128_(fp32|tf32)_images_per_s (\S+) images/s")
    with open(path) as f:
        for line in f:
            m = pat.match(line.strip())
            if m:
                ours[m.group(1)] = float(m.group(2))
    return ours


def build_model(torch):
    nn = torch.nn

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.shortcut = nn.Sequential()
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            out = torch.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return torch.relu(out + self.shortcut(x))

    class ResNet18(nn.Module):
        def __init__(self, classes=10):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            layers, cin = [], 64
            for cout, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
                layers.append(nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)))
                cin = cout
            self.layers = nn.Sequential(*layers)
            self.linear = nn.Linear(512, classes)

        def forward(self, x):
            out = torch.relu(self.bn1(self.conv1(x)))
            out = self.layers(out)
            out = torch.nn.functional.adaptive_avg_pool2d(out, 1).flatten(1)
            return self.linear(out)

    return ResNet18()


def images_per_s(torch, tf32, batch, iters, warmup):
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = False
    torch.manual_seed(0)
    dev = torch.device("cuda:0")
    model = build_model(torch).to(dev).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(batch, 3, 32, 32, device=dev)
    y = torch.randint(0, 10, (batch,), device=dev)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(iters):
        step()
    torch.cuda.synchronize()
    return iters * batch / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ours-fp32", type=float, help="our images/s with fp32 convolutions")
    ap.add_argument("--ours-tf32", type=float, help="our images/s with TF32 convolutions")
    ap.add_argument("--ours-file", help="output of train_step_bench_cuda to read our numbers from")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        print("compare_pytorch: SKIPPED: torch is not installed (pip install torch)")
        return 0
    if not torch.cuda.is_available():
        print("compare_pytorch: SKIPPED: torch sees no CUDA device")
        return 0
    ours = parse_ours(args.ours_file) if args.ours_file else {}
    if args.ours_fp32 is not None:
        ours["fp32"] = args.ours_fp32
    if args.ours_tf32 is not None:
        ours["tf32"] = args.ours_tf32
    print(f"device: {torch.cuda.get_device_name(0)}  torch {torch.__version__}")
    for p in ("fp32", "tf32"):
        ref = images_per_s(torch, p == "tf32", args.batch, args.iters, args.warmup)
        print(f"RESULT pytorch resnet18_b{args.batch}_{p}_images_per_s {ref:.6g} images/s")
        if p in ours:
            print(f"RESULT pytorch ratio_ours_over_pytorch_{p} {ours[p] / ref:.4g} ratio")
    return 0


if __name__ == "__main__":
    sys.exit(main())
