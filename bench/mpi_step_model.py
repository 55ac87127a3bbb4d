#!/usr/bin/env python3
"""A model of the data-parallel step time on N machines (docs/mpi.md):

    T(N) = C / N + A(N),   A(N) = 2 (N - 1) alpha + 2 (N - 1) / N * P / beta

C: one machine's compute time for a step of the global batch (compute per rank C / N, which
assumes the per-rank batch B / N is still large enough to keep a machine busy); A: a ring
allreduce of the P gradient bytes (MPI_Allreduce's large-message algorithm) at latency alpha and
bandwidth beta per link. Communication dominates from the first N with A(N) > C / N; N cannot
exceed the global batch B (each rank needs an item).

fas overlaps the buckets' sums with the backward pass (dist::OverlappedBackward): at best the
allreduce runs from the start of the backward pass, which is a share F = 2/3 of a step (twice
the forward's work), so T_ov(N) = max(C / N, (1 - F) C / N + A(N)), and communication shows only
from the first N with A(N) > F C / N. Usage:

    bench/mpi_step_model.py MODEL PARAMS C_SECONDS BATCH [MODEL PARAMS C BATCH ...]
"""
import sys

LINKS = [("10 GbE", 50e-6, 1.25e9), ("1 GbE", 50e-6, 0.125e9)]
F = 2.0 / 3.0  # the backward pass's share of a step


def allreduce(n, p_bytes, alpha, beta):
    return 0.0 if n == 1 else 2 * (n - 1) * alpha + 2 * (n - 1) / n * p_bytes / beta


def main():
    a = sys.argv[1:]
    if not a or len(a) % 4:
        sys.exit(__doc__)
    print("| model | params | C (1 machine) | batch | link | T(2) | T(8) | speed-up at 8 | comm. dominates from N "
          "| T(8) overlapped | speed-up at 8, overlapped | comm. shows from N, overlapped |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for i in range(0, len(a), 4):
        name, params, c, batch = a[i], int(a[i + 1]), float(a[i + 2]), int(a[i + 3])
        p = 4 * params
        for link, alpha, beta in LINKS:
            t = lambda n: c / n + allreduce(n, p, alpha, beta)
            t_ov = lambda n: max(c / n, (1 - F) * c / n + allreduce(n, p, alpha, beta))
            first = lambda share: next(n for n in range(2, 100000) if allreduce(n, p, alpha, beta) > share * c / n)
            at = lambda n: str(n) if n <= batch else "%d (beyond batch %d)" % (n, batch)
            print("| %s | %s | %.3g s | %d | %s | %.3g s | %.3g s | %.1fx | %s | %.3g s | %.1fx | %s |" %
                  (name, format(params, ","), c, batch, link, t(2), t(8), c / t(8), at(first(1.0)), t_ov(8),
                   c / t_ov(8), at(first(F))))


if __name__ == "__main__":
    main()
