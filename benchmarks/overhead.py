"""What the optional parts of training cost per epoch: diagnostics, dropout, batch norm.

Trains the same network plain (``diagnostics=False``, no dropout, no batch normalisation) and
with each option, alternating the settings within every repeat, and prints the median time
per epoch of each and its ratio to the plain network's. Workload: 50,000 x 50 features,
10 classes, hidden (256, 128), adam, batch 256, a fixed number of epochs (tol=0, so every run
does the same work). ``--quick`` shrinks it for a smoke test.

    python benchmarks/overhead.py [--quick] [--repeats N] [--epochs N] [--threads N]
"""

import argparse
import os
import statistics
import sys
import time
import warnings

SETTINGS = {
    "plain": {},
    "diagnostics": {"diagnostics": True},
    "dropout=0.2": {"dropout": 0.2},
    "batch_norm": {"batch_norm": True},
    "dropout+batch_norm": {"dropout": 0.2, "batch_norm": True},
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small workload (smoke test)")
    parser.add_argument("--repeats", type=int, default=5, help="runs per setting (default 5)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per run (default 3)")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS threads (default: the library's own choice)")
    args = parser.parse_args(argv)
    if args.threads is not None:  # must be set before numpy loads its BLAS
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[name] = str(args.threads)

    import numpy as np
    from sklearn.datasets import make_classification
    from sklearn.exceptions import ConvergenceWarning

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    from sknnloss import MLPClassifier

    n_samples, hidden = (5_000, (64, 32)) if args.quick else (50_000, (256, 128))
    X, y = make_classification(n_samples=n_samples, n_features=50, n_informative=30,
                               n_classes=10, random_state=0)
    warnings.simplefilter("ignore", ConvergenceWarning)
    times = {name: [] for name in SETTINGS}
    for _ in range(args.repeats):
        for name, options in SETTINGS.items():
            model = MLPClassifier(hidden_layer_sizes=hidden, solver="adam", batch_size=256,
                                  max_iter=args.epochs, tol=0.0, n_iter_no_change=np.inf,
                                  random_state=0, **{"diagnostics": False, **options})
            start = time.perf_counter()
            model.fit(X, y)
            times[name].append((time.perf_counter() - start) / args.epochs)
    print(f"workload: {n_samples} x 50, 10 classes, hidden {hidden}, adam, batch 256, "
          f"{args.epochs} epochs, {args.repeats} repeats")
    plain = statistics.median(times["plain"])
    print(f"{'setting':<20} {'median s/epoch':>15} {'ratio to plain':>15}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<20} {median:>15.4f} {median / plain:>15.3f}")


if __name__ == "__main__":
    main()
