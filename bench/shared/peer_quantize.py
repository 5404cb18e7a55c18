#!/usr/bin/python3
"""PyTorch peer for bench/compression.ps1: dynamic int8 quantization of the same dense model.

Loads a SparsePrune SafeTensors export (normalization folded in, so it takes raw inputs),
takes the normalization back out of the first layer (see unfold), measures its float32 accuracy, quantizes it with torch.ao.quantization.quantize_dynamic
(Linear layers, qint8), measures that accuracy on the same rows, and saves both state dicts
with torch.save to measure their size on disk. Prints one JSON object.
Run with Debian's /usr/bin/python3 (python3-torch 1.13)."""
import argparse, gzip, json, os, struct, tempfile, time

import torch
import torch.nn as nn

from peer_pytorch import read_idx  # the IDX reader the accuracy peer uses


def read_safetensors(path):
    """The tensors and the __metadata__ of a SafeTensors file (F32 only: what SparsePrune writes)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, t in header.items():
        assert t["dtype"] == "F32", f"{name}: {t['dtype']}"
        a, b = t["data_offsets"]
        tensors[name] = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(t["shape"])
    return tensors, meta


def build(tensors, meta):
    """torch.nn.Sequential(Linear, activation, Linear, ...) as README.md builds it from the metadata."""
    widths = json.loads(meta["widths"])
    act = getattr(nn, meta["torch_activation"])
    kwargs = json.loads(meta.get("torch_activation_kwargs", "{}"))
    layers = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i + 2 < len(widths):
            layers.append(act(**kwargs))
    model = nn.Sequential(*layers)
    model.load_state_dict(tensors)
    return model.eval()


def unfold(model, x):
    """The model with the input normalization taken back out of its first layer, and x normalized.

    SparsePrune's SafeTensors file folds x' = (x - offset) / scale into the first layer
    (W' = W / scale), which blows up the columns of near-constant inputs; quantize_dynamic's
    per-tensor weight range would then be set by those columns. For any offset o and scale s,
    W = W' * s and b = b' + W' o give W (x - o) / s + b = W' x + b' exactly, so the float model
    is unchanged: with the evaluation rows' own mean and std the weights are back at the scale
    they were trained at, which is how SparsePrune itself holds and quantizes them. Inputs that
    never vary get s = 1 and a zero column (their constant contribution moves into the bias)."""
    o, s = x.mean(0), x.std(0)
    constant = s < 1e-6
    s = torch.where(constant, torch.ones_like(s), s)
    first = model[0]
    with torch.no_grad():
        w = first.weight.double()
        first.bias.copy_((first.bias.double() + w @ o.double()).float())
        first.weight.copy_((w * s.double()).masked_fill(constant, 0).float())
    return model, (x - o) / s


def read_csv(path):
    """Rows of features with the label last (the Digits file)."""
    rows = [list(map(float, line.split(","))) for line in gzip.open(path, "rt") if line.strip()]
    t = torch.tensor(rows)
    return t[:, :-1], t[:, -1].long()


def accuracy(model, x, y):
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def saved_bytes(obj):
    fd, path = tempfile.mkstemp(suffix=".pt")
    os.close(fd)
    try:
        torch.save(obj, path)
        return os.path.getsize(path)
    finally:
        os.remove(path)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("model", help="SafeTensors file written by Export-Mlp")
    p.add_argument("--idx-folder", help="a folder with t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz")
    p.add_argument("--csv", help="a gzipped CSV, label last (every row is evaluated)")
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.idx_folder:
        x = read_idx(f"{a.idx_folder}/t10k-images-idx3-ubyte.gz")
        y = read_idx(f"{a.idx_folder}/t10k-labels-idx1-ubyte.gz")
    else:
        x, y = read_csv(a.csv)
    model = build(*read_safetensors(a.model))
    # As exported (normalization folded in), for reference; the figures are the unfolded model's,
    # the peer's best setting.
    folded_accuracy = accuracy(model, x, y)
    folded_int8 = accuracy(torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8), x, y)
    model, x = unfold(model, x)
    t = time.perf_counter()
    q = torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)
    seconds = time.perf_counter() - t
    print(json.dumps({
        "torch": torch.__version__, "engine": torch.backends.quantized.engine, "rows": int(x.shape[0]),
        "folded_float_accuracy": folded_accuracy, "folded_int8_accuracy": folded_int8,
        "float_accuracy": accuracy(model, x, y), "int8_accuracy": accuracy(q, x, y),
        "float_state_dict_bytes": saved_bytes(model.state_dict()),
        "int8_state_dict_bytes": saved_bytes(q.state_dict()),
        "quantize_seconds": seconds,
    }))
