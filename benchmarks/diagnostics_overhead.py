"""Overhead of the per-epoch diagnostics (``diagnostics=True``, the default) on fit time.

Trains the same network with diagnostics on and off, alternating, several times, and prints
the median fit times and their ratio. Workload: 50,000 x 50 features, 10 classes, hidden
(256, 128), adam, batch 256, a fixed number of epochs (tol=0, so every run does the same
work). ``--quick`` shrinks it for a smoke test.

    python benchmarks/diagnostics_overhead.py [--quick] [--repeats N]
"""

import argparse
import statistics
import time
import warnings

import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from sknnloss import MLPClassifier


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small workload (smoke test)")
    parser.add_argument("--repeats", type=int, default=5, help="runs per setting (default 5)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per run (default 3)")
    args = parser.parse_args()
    n_samples, hidden = (5_000, (64, 32)) if args.quick else (50_000, (256, 128))
    X, y = make_classification(n_samples=n_samples, n_features=50, n_informative=30,
                               n_classes=10, random_state=0)
    warnings.simplefilter("ignore", ConvergenceWarning)
    times = {True: [], False: []}
    for _ in range(args.repeats):
        for diagnostics in (False, True):
            model = MLPClassifier(hidden_layer_sizes=hidden, solver="adam", batch_size=256,
                                  max_iter=args.epochs, tol=0.0, n_iter_no_change=np.inf,
                                  diagnostics=diagnostics, random_state=0)
            start = time.perf_counter()
            model.fit(X, y)
            times[diagnostics].append(time.perf_counter() - start)
    off, on = statistics.median(times[False]), statistics.median(times[True])
    print(f"workload: {n_samples} x 50, 10 classes, hidden {hidden}, adam, batch 256, "
          f"{args.epochs} epochs, {args.repeats} repeats")
    print(f"median fit time, diagnostics off: {off:.3f}s")
    print(f"median fit time, diagnostics on:  {on:.3f}s")
    print(f"ratio on / off: {on / off:.3f}  (overhead {100 * (on / off - 1):+.1f}%)")


if __name__ == "__main__":
    main()
