#!/usr/bin/python3
"""PyTorch peer for bench/Compare.Bench.ps1: times the same work with torch.nn.utils.prune.

Prints one JSON object. Run with Debian's /usr/bin/python3 (python3-torch)."""
import argparse, gc, gzip, json, struct, time

import torch
import torch.nn as nn
import torch.nn.utils.prune as prune


def mlp(widths):
    layers = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i + 2 < len(widths):
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def status_bytes(name):
    """A /proc/self/status field (VmRSS, VmHWM) in bytes, or None off Linux."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def reset_peak():
    """Resets the kernel's peak-RSS counter (VmHWM) to the current RSS; False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def global_prune(widths, sparsity, repeats):
    times, added = [], []
    for r in range(repeats):
        torch.manual_seed(r)
        model = mlp(widths)
        params = [(m, "weight") for m in model if isinstance(m, nn.Linear)]
        gc.collect()
        before = status_bytes("VmRSS")
        peak_ok = reset_peak()
        t = time.perf_counter()
        prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=sparsity)
        times.append(time.perf_counter() - t)
        peak = status_bytes("VmHWM")
        if peak_ok and before is not None and peak is not None:
            added.append(peak - before)
        zeros = sum(int((m.weight == 0).sum()) for m, _ in params)
        del model, params
    weight_bytes = 4 * sum(widths[i] * widths[i + 1] for i in range(len(widths) - 1))
    return {"seconds": sorted(times)[len(times) // 2], "times": times, "zeros": zeros,
            "peakAddedBytes": max(added) if added else None, "weightBytes": weight_bytes}


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">i", data[:4])[0]
    if magic == 0x803:
        n, r, c = struct.unpack(">iii", data[4:16])
        return torch.frombuffer(bytearray(data[16:]), dtype=torch.uint8).reshape(n, r * c).float()
    n = struct.unpack(">i", data[4:8])[0]
    return torch.frombuffer(bytearray(data[8:]), dtype=torch.uint8).long()


def train_epoch(folder, widths, batch, sparsity=0.0, mask_style="hook", flush_denormal=True):
    x = read_idx(f"{folder}/train-images-idx3-ubyte.gz")
    y = read_idx(f"{folder}/train-labels-idx1-ubyte.gz")
    x = (x - x.mean(0)) / x.std(0).clamp_min(1e-6)
    # Without this, the unmasked run spends most of its time on denormal numbers (3.0 s an epoch
    # here against 1.2 s): the peer gets its best setting.
    torch.set_flush_denormal(flush_denormal)
    torch.manual_seed(1)
    model = mlp(widths)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    masks = []
    if sparsity > 0 and mask_style == "hook":
        # Masks held the way PyTorch's pruning tool holds them: weight = weight_orig * weight_mask
        # recomputed by a forward pre-hook, so the masked weights get no update.
        for m in linears:
            prune.l1_unstructured(m, "weight", amount=sparsity)
    elif sparsity > 0:
        # Masks held by hand, as SparsePrune holds them: the weights multiplied by the mask after
        # each optimizer step (Adam and SGD are elementwise: masking the gradients too changes no
        # other weight).
        with torch.no_grad():
            for m in linears:
                k = int(sparsity * m.weight.numel())
                kth = m.weight.abs().flatten().kthvalue(k).values
                mask = (m.weight.abs() > kth).float()
                m.weight.mul_(mask)
                masks.append(mask)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    # Warm-up on a throwaway model, as the other contenders' timed runs are preceded by one.
    spare = mlp(widths)
    spare_opt = torch.optim.Adam(spare.parameters(), lr=1e-3)
    for s in range(0, 10 * batch, batch):
        spare_opt.zero_grad()
        loss_fn(spare(x[s:s + batch]), y[s:s + batch]).backward()
        spare_opt.step()
    t = time.perf_counter()
    perm = torch.randperm(x.shape[0])
    for s in range(0, x.shape[0], batch):
        idx = perm[s:s + batch]
        opt.zero_grad()
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
        if masks:
            with torch.no_grad():
                for m, mask in zip(linears, masks):
                    m.weight.mul_(mask)
    return {"seconds": time.perf_counter() - t, "loss": float(loss)}


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("task", choices=["global-prune", "train-epoch"])
    p.add_argument("--widths", default="2048,2048,2048,2048,2048")
    p.add_argument("--sparsity", type=float, default=0.9)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--folder", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--train-sparsity", type=float, default=0.0)
    p.add_argument("--mask-style", choices=["hook", "manual"], default="hook")
    p.add_argument("--keep-denormals", action="store_true", help="PyTorch's default: no flush of denormal numbers")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    widths = [int(w) for w in a.widths.split(",")]
    out = global_prune(widths, a.sparsity, a.repeats) if a.task == "global-prune" else train_epoch(a.folder, widths, a.batch, a.train_sparsity, a.mask_style, not a.keep_denormals)
    out.update(task=a.task, widths=widths, threads=torch.get_num_threads(), torch=torch.__version__)
    print(json.dumps(out))
