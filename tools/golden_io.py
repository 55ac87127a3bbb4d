"""Writes golden fixtures in the format tests/testutil.cpp reads:
tests/golden/<case>/<name>.bin (little-endian float32, C order) and <name>.shape (dims as text).
Run generators with Debian's /usr/bin/python3 (python3-torch 1.13)."""
import os
import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden")


def save(case, name, t):
    """Save a torch tensor or numpy array as a float32 fixture."""
    try:
        import torch
        if isinstance(t, torch.Tensor):
            t = t.detach().cpu().numpy()
    except ImportError:
        pass
    a = np.ascontiguousarray(np.asarray(t, dtype="<f4"))
    d = os.path.join(ROOT, case)
    os.makedirs(d, exist_ok=True)
    a.tofile(os.path.join(d, name + ".bin"))
    with open(os.path.join(d, name + ".shape"), "w") as f:
        f.write(" ".join(str(x) for x in a.shape) + "\n")
