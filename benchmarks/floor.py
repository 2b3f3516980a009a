"""The floor of a numpy training loop: how close sknnloss's minibatch fit is to the least time
any numpy implementation of the same training needs, and how far scikit-learn's is.

For each minibatch workload of ``run.py`` (Adam and SGD), this trains, on the same data, network,
batch size and number of epochs:

- scikit-learn's MLP;
- sknnloss;
- a bare numpy loop: the same matrix products, the ReLU hidden layers, the output
  gradient from the logits (softmax, or the logistic function for two classes), the Adam or
  Nesterov-SGD step on one flat parameter vector, the shuffled batches gathered with ``take``
  into preallocated buffers, and nothing else. No loss value, no L2 penalty, no input checks,
  no convergence bookkeeping: less work than either library must do;

then the bare loop plus what an estimator reporting scikit-learn's ``loss_curve_`` must also
compute on every batch, the loss value from the logits and the L2 penalty (``alpha``, 1e-4 by
default) with its gradient ("+loss+L2"); and last, only the matrix products of those
batches: the BLAS work that any implementation of this training must do, whatever its
language.

It prints the median fit time of each and its ratio to scikit-learn's. The bare loop's ratio
is about the lowest a numpy implementation can reach on the machine, the products' ratio the
lowest any BLAS-based one can. The runs alternate within every repeat, in one process. When
both ``cls50k_adam`` and its float32 variant run, a last line gives, for each column, the
float32 fit time over the float64 one: what the BLAS's single-precision kernels allow for the
float32 target.

    python benchmarks/floor.py [--quick] [--repeats N] [--threads N] [--workload NAME ...]
"""

import argparse
import math
import os
import statistics
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

MINIBATCH = ["digits_adam", "cls50k_adam", "bin50k_sgd", "cls50k_adam_float32", "many_class"]


def floor_fit(X, y, hidden, solver, batch_size, epochs, learning_rate=0.001, momentum=0.9,
              seed=0, products_only=False, alpha=None):
    """Train a ReLU network with the least numpy work; return the flat parameter vector.

    ``y`` holds class indices; two classes train one logistic output, more a softmax. With
    ``products_only``, only the matrix products of every batch run (on buffers of random
    values; nothing is trained): the BLAS work any implementation of this training must do.

    With ``alpha`` (a number), the loop also does what an estimator reporting scikit-learn's
    ``loss_curve_`` must: each batch's mean loss from the logits, the L2 penalty
    ``alpha / (2 m) ||coefs||^2`` and its gradient, summed into the epoch's loss; the epoch
    losses are then returned too, as ``(params, losses)``.
    """
    import numpy as np
    from scipy.special import expit

    rng = np.random.RandomState(seed)
    dtype = X.dtype
    n, n_features = X.shape
    n_classes = int(y.max()) + 1
    n_out = 1 if n_classes == 2 else n_classes
    sizes = [n_features, *hidden, n_out]
    n_layers = len(sizes) - 1
    # One flat vector: every coefficient matrix, then every intercept, as views.
    n_coef = sum(sizes[i] * sizes[i + 1] for i in range(n_layers))
    n_params = n_coef + sum(sizes[1:])
    params = np.empty(n_params, dtype=dtype)
    grad = np.empty_like(params)

    def views(flat):
        coefs, intercepts, start = [], [], 0
        for i in range(n_layers):
            size = sizes[i] * sizes[i + 1]
            coefs.append(flat[start:start + size].reshape(sizes[i], sizes[i + 1]))
            start += size
        for i in range(n_layers):
            intercepts.append(flat[start:start + sizes[i + 1]])
            start += sizes[i + 1]
        return coefs, intercepts

    coefs, intercepts = views(params)
    coef_grads, intercept_grads = views(grad)
    for i in range(n_layers):
        bound = np.sqrt(6.0 / (sizes[i] + sizes[i + 1]))
        coefs[i][...] = rng.uniform(-bound, bound, coefs[i].shape)
        intercepts[i][...] = rng.uniform(-bound, bound, intercepts[i].shape)

    b = min(batch_size, n)
    acts = [np.empty((b, size), dtype=dtype) for size in sizes]  # acts[0]: the batch
    deltas = [np.empty((b, size), dtype=dtype) for size in sizes[1:]]
    alive = [np.empty((b, size), dtype=bool) for size in sizes[1:]]
    y_batch = np.empty(b, dtype=np.intp)
    ones_rows, ones_out = np.ones(b, dtype=dtype), np.ones(n_out, dtype=dtype)
    row_index = np.arange(b)
    first, second = np.zeros_like(params), np.zeros_like(params)  # Adam's moments / velocity
    y = y.astype(np.intp)
    if products_only:  # finite values, so that no BLAS kernel meets nan or subnormals
        for array in acts + deltas:
            array[...] = rng.uniform(0.1, 1.0, array.shape)
    with_loss = alpha is not None
    l2_scratch = np.empty(n_coef, dtype=dtype)
    losses = []
    t = 0
    for _ in range(epochs):
        order = rng.permutation(n)
        epoch_loss = 0.0
        for start in range(0, n, b):
            index = order[start:start + b]
            m = index.shape[0]
            a = [act[:m] for act in acts]
            if products_only:
                for i in range(n_layers):
                    np.matmul(a[i], coefs[i], out=a[i + 1])
                for i in range(n_layers - 1, -1, -1):
                    np.matmul(a[i].T, a[i + 1], out=coef_grads[i])
                    np.matmul(ones_rows[:m], a[i + 1], out=intercept_grads[i])
                    if i:
                        np.matmul(a[i + 1], coefs[i].T, out=deltas[i - 1][:m])
                continue
            np.take(X, index, axis=0, out=a[0])
            np.take(y, index, out=y_batch[:m])
            for i in range(n_layers):
                np.matmul(a[i], coefs[i], out=a[i + 1])
                a[i + 1] += intercepts[i]
                if i < n_layers - 1:
                    np.maximum(a[i + 1], 0, out=a[i + 1])
            out = a[-1]  # the logits become the gradient of the mean loss
            if n_out == 1:
                if with_loss:  # log(1 + e^z) - y z
                    batch_loss = float(np.add.reduce(np.logaddexp(0, out[:, 0]))
                                       - out[:, 0] @ y_batch[:m].astype(dtype)) / m
                expit(out, out=out)
                out[:, 0] -= y_batch[:m]
                out /= m
            else:
                # Each row shifted by its target's logit, as sknnloss does (without its check
                # that nothing overflows): the target's term is 1, and log(sum e^(z - z[y]))
                # is the cross-entropy itself.
                out -= out[row_index[:m], y_batch[:m]][:, np.newaxis]
                np.exp(out, out=out)
                total = out @ ones_out
                if with_loss:
                    batch_loss = float(np.add.reduce(np.log(total))) / m
                scale = np.reciprocal(total, out=total)
                scale /= m
                out *= scale[:, np.newaxis]
                out[row_index[:m], y_batch[:m]] -= dtype.type(1.0 / m)
            delta = out
            for i in range(n_layers - 1, -1, -1):
                np.matmul(a[i].T, delta, out=coef_grads[i])
                np.matmul(ones_rows[:m], delta, out=intercept_grads[i])
                if i:
                    back = np.matmul(delta, coefs[i].T, out=deltas[i - 1][:m])
                    back *= np.greater(a[i], 0, out=alive[i - 1][:m])
                    delta = back
            if with_loss:  # the L2 term: its value, and alpha / m * coefs into the gradient
                coef_flat = params[:n_coef]
                batch_loss += 0.5 * alpha / m * float(coef_flat @ coef_flat)
                np.multiply(coef_flat, dtype.type(alpha / m), out=l2_scratch)
                grad[:n_coef] += l2_scratch
                epoch_loss += batch_loss * m
            t += 1
            if solver == "adam":  # the same ten whole-vector passes as sknnloss's Adam
                first *= 0.9
                first += grad
                np.multiply(grad, grad, out=grad)
                second *= 0.999
                second += grad
                # Python floats, as sknnloss's Adam: a numpy float64 scalar would make numpy
                # 2 compute a float32 vector's pass in float64.
                step = learning_rate * math.sqrt(1 - 0.999**t) / (1 - 0.9**t)
                np.sqrt(second, out=grad)
                grad += 1e-8 / math.sqrt(1 - 0.999)
                np.divide(first, grad, out=grad)
                grad *= step * (1 - 0.9) / math.sqrt(1 - 0.999)
                params -= grad
            else:  # Nesterov momentum, as scikit-learn: v <- mu v - lr g; p += mu v - lr g
                grad *= learning_rate
                first *= momentum
                first -= grad
                params -= grad
                second[...] = first
                second *= momentum
                params += second
        losses.append(epoch_loss / n)
    return (params, losses) if with_loss else params


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the run.py --quick workloads")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each (default 5)")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS threads (default: numpy's own choice)")
    parser.add_argument("--workload", action="append", choices=MINIBATCH,
                        help="run only this workload (repeatable; default: all minibatch ones)")
    args = parser.parse_args(argv)
    if args.threads is not None:  # must be set before numpy loads its BLAS
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[name] = str(args.threads)

    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier

    import run
    from sknnloss import MLPClassifier

    warnings.simplefilter("ignore", ConvergenceWarning)
    rows = []
    for name in args.workload or MINIBATCH:
        workload = run.WORKLOADS[name]
        if args.quick:
            workload = workload.shrunk()
        X, _, y, _ = run.make_data(workload)
        y = np.unique(y, return_inverse=True)[1]
        params = workload.estimator_params(0)
        p = workload.model_params
        batch = p.get("batch_size", "auto")
        batch = min(200, X.shape[0]) if batch == "auto" else batch
        floor_args = (X, y, p["hidden_layer_sizes"], p["solver"], batch, workload.max_iter)
        floor_kwargs = {"learning_rate": p.get("learning_rate_init", 0.001),
                        "momentum": p.get("momentum", 0.9)}
        runs = {
            "scikit-learn": lambda: SklearnMLPClassifier(**params).fit(X, y),
            "sknnloss": lambda: MLPClassifier(**params).fit(X, y),
            "bare loop": lambda: floor_fit(*floor_args, **floor_kwargs),
            "+loss+L2": lambda: floor_fit(*floor_args, **floor_kwargs,
                                            alpha=params.get("alpha", 0.0001)),
            "products": lambda: floor_fit(*floor_args, **floor_kwargs, products_only=True),
        }
        times = {key: [] for key in runs}
        for _ in range(args.repeats):
            for key, fit in runs.items():
                start = time.perf_counter()
                fit()
                times[key].append(time.perf_counter() - start)
        rows.append((name, {key: statistics.median(values) for key, values in times.items()}))
        print(f"[{name} done]", file=sys.stderr, flush=True)

    threads = "default" if args.threads is None else args.threads
    print(f"median over {args.repeats} repeat(s), BLAS threads: {threads}")
    print(run.machine_description())
    columns = ("sknnloss", "bare loop", "+loss+L2", "products")
    widths = [max(10, len(key) + 2) for key in columns]
    header = (f"{'workload':<22}{'scikit-learn':>13}"
              + "".join(f"{key:>{w}}" for key, w in zip(columns, widths)) * 2)
    half = sum(widths)
    print(f"{'':<22}{'fit time [s]':^{13 + half}}{'ratio to scikit-learn':^{half}}")
    print(header)
    print("-" * len(header))
    for name, t in rows:
        sk = t["scikit-learn"]
        print(f"{name:<22}{sk:>13.3f}"
              + "".join(f"{t[key]:>{w}.3f}" for key, w in zip(columns, widths))
              + "".join(f"{t[key] / sk:>{w}.3f}" for key, w in zip(columns, widths)))
    # The float32 target compares sknnloss with itself (float32 / float64 on cls50k_adam): the
    # same quotient for the bare loop and the products shows how much of it the BLAS allows.
    by_name = dict(rows)
    if "cls50k_adam" in by_name and "cls50k_adam_float32" in by_name:
        single, double = by_name["cls50k_adam_float32"], by_name["cls50k_adam"]
        print()
        print("float32 / float64 fit time on cls50k_adam (measured one workload after the "
              "other): " + ", ".join(f"{key} {single[key] / double[key]:.3f}"
                                     for key in columns))


if __name__ == "__main__":
    main()
