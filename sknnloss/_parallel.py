"""Prediction on several cores: the row blocks of one call shared out between threads.

Prediction runs block by block (``Network.forward``). Per block it does a few matrix products
and element-wise work: bias additions, the hidden activations, the output activation (a
softmax over 1000 classes is several passes over the block). numpy releases the GIL in both,
so Python threads that each take their own blocks use every core for all of that work, where
one thread only spreads the products over the cores (through BLAS) and leaves the element-wise
passes on one.

The threads' products must then run on one BLAS thread each: with both the worker threads and
the BLAS threads asking for every core, the calls waited on each other and prediction became
slower than on one thread (measured on 2 cores: 100,000 rows of a (128,) network with 1000
softmax outputs took 1.6 s this way, 0.64 s with BLAS on one thread and 1.07 s serially).
numpy's BLAS is limited to one thread while the workers run, and its limit is put back when
the last of the overlapping predictions in the process ends (a lock and a counter: nested
``threadpoolctl`` limits entered and left by different threads would restore in the wrong
order). Only numpy's BLAS is touched: the wheels' separate scipy BLAS is what the L-BFGS
solver limits (``_solvers._scipy_blas_single_thread``).

How many threads: as many as numpy's BLAS would use (so ``threadpoolctl.threadpool_limits(1)``
or ``OMP_NUM_THREADS=1`` keep prediction on the calling thread), at most the cores this
process may run on, at most the number of blocks, and one when there are fewer than
``MIN_PARALLEL_BLOCKS`` blocks. The result does not depend on the number of threads: every
block is computed the same way on any thread.
"""

import contextvars
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import ThreadpoolController

__all__ = ["run_blocks", "prediction_threads", "MIN_PARALLEL_BLOCKS"]

#: Fewer blocks than this run on the calling thread (for networks up to 256 units wide, up to
#: 15,360 rows). Handing out blocks costs about 0.06 ms, but a short call gains little and
#: can lose: right after a multithreaded matrix product anywhere in the process, OpenBLAS's
#: idle threads spin for about 0.1 s waiting for more work (limiting BLAS to one thread does
#: not stop them) and take a core from the helper threads. Measured on 2 cores, 10,000 rows
#: of a (100,) tanh network predicted right after fit: 8-10 ms on two threads against 7 ms on
#: one. Long calls outlast the spinning: 100,000 rows took as long on two threads as on one
#: right after a product, and 0.6x as long otherwise.
MIN_PARALLEL_BLOCKS = 16

_lock = threading.Lock()
_state = {"controller": None, "active": 0, "limiter": None, "pool": None}


def _numpy_blas():
    """threadpoolctl's controller of numpy's BLAS libraries (None when none is found).

    numpy and scipy wheels each bundle an OpenBLAS; scipy's sits in ``scipy.libs``. Built
    once: the libraries are loaded when numpy is imported.
    """
    with _lock:
        if _state["controller"] is None:
            try:
                blas = ThreadpoolController().select(user_api="blas")
                paths = [lib.filepath for lib in blas.lib_controllers
                         if os.path.basename(os.path.dirname(lib.filepath)) != "scipy.libs"]
                _state["controller"] = blas.select(filepath=paths) if paths else False
            except Exception:  # an unusual BLAS threadpoolctl cannot read: stay serial
                _state["controller"] = False
        return _state["controller"] or None


def _available_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def prediction_threads(n_blocks):
    """The number of threads :func:`run_blocks` uses for ``n_blocks`` blocks."""
    if n_blocks < MIN_PARALLEL_BLOCKS:
        return 1
    blas = _numpy_blas()
    if blas is None:
        return 1
    blas_threads = min((lib.num_threads for lib in blas.lib_controllers), default=1)
    return max(1, min(blas_threads, _available_cores(), n_blocks))


def _enter_single_threaded_blas():
    blas = _numpy_blas()
    with _lock:
        if _state["active"] == 0 and blas is not None:
            _state["limiter"] = blas.limit(limits=1)
        _state["active"] += 1


def _exit_single_threaded_blas():
    with _lock:
        _state["active"] -= 1
        if _state["active"] == 0 and _state["limiter"] is not None:
            _state["limiter"].restore_original_limits()
            _state["limiter"] = None


def _helpers():
    """The process's pool of helper threads (one less than the cores), started on first use.

    Kept between calls: starting threads on every call cost 0.3-0.5 ms, a tenth of a
    10,000-row prediction of a small network.
    """
    with _lock:
        if _state["pool"] is None:
            _state["pool"] = ThreadPoolExecutor(max_workers=max(1, _available_cores() - 1),
                                                thread_name_prefix="sknnloss-predict")
        return _state["pool"]


def _after_fork_in_child():
    """A forked child has copies of the parent's state but only the forking thread: no
    helper threads, no prediction running (its BLAS limit, if one was on, is put back), and
    ``_lock`` may have been held by a thread that does not exist here."""
    global _lock
    _lock = threading.Lock()
    limiter = _state["limiter"]
    _state.update(pool=None, active=0, limiter=None)
    if limiter is not None:
        try:
            limiter.restore_original_limits()
        except Exception:  # pragma: no cover - a BLAS threadpoolctl cannot reset here
            pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class _Blocks:
    """The blocks of one call, handed out one at a time to whichever thread asks.

    The calling thread runs :meth:`run` with ``helper=False`` and raises what its own
    blocks raise; helpers store an error in ``error``, which stops the handing out. ``busy``
    counts the helpers in the middle of a block: the caller waits for it to reach zero
    before the result is used (or dropped), so no helper writes into it afterwards.
    """

    def __init__(self, n_rows, block, make_worker):
        self.n_rows, self.block, self.make_worker = n_rows, block, make_worker
        self.n_blocks = -(-n_rows // block)
        self.taken = self.busy = 0
        self.error = None
        self.changed = threading.Condition()

    def run(self, helper=True):
        worker = None
        while True:
            with self.changed:
                if self.error is not None or self.taken == self.n_blocks:
                    return
                start = self.taken * self.block
                self.taken += 1
                self.busy += helper
            try:
                if worker is None:
                    worker = self.make_worker()
                worker(start, min(start + self.block, self.n_rows))
            except BaseException as error:
                self.stop(error)
                if not helper:
                    raise
                return
            finally:
                if helper:
                    with self.changed:
                        self.busy -= 1
                        self.changed.notify_all()

    def stop(self, error):
        """Hand out no more blocks (the first error is the one kept)."""
        with self.changed:
            if self.error is None:
                self.error = error

    def wait_for_helpers(self):
        with self.changed:
            self.changed.wait_for(lambda: self.busy == 0)


def _as_caller(errors, run):
    """Run ``run()`` with the caller's numpy error handling (``np.errstate``).

    The helper runs in a copy of the caller's context, which carries numpy's error state from
    numpy 2.0 on; numpy 1.x keeps it per thread, so it is set here explicitly too.
    """
    settings, call = errors
    # call=None too: a callback that code on this (persistent) thread once left with
    # np.seterrcall must not answer for this caller.
    with np.errstate(call=call, **settings):
        return run()


def run_blocks(n_rows, block, make_worker):
    """Run ``worker(start, stop)`` for every block of ``block`` rows of ``n_rows``.

    ``make_worker()`` is called once by each thread that gets a block and returns that
    thread's ``worker`` (so a worker can own a scratch buffer). The blocks are handed out one
    at a time, in order, to whichever thread is free; the calling thread is one of them and
    the call returns when every block is done. An exception raised by a worker stops the
    handing out and is raised here.

    Returns
    -------
    n_threads : int
        The number of threads asked to take blocks (1: the calling thread alone).
    """
    n_threads = prediction_threads(-(-n_rows // block))
    if n_threads == 1:
        worker = make_worker()
        for start in range(0, n_rows, block):
            worker(start, min(start + block, n_rows))
        return 1

    blocks = _Blocks(n_rows, block, make_worker)
    _enter_single_threaded_blas()
    try:
        pool = _helpers()
        errors = (np.geterr(), np.geterrcall())
        for _ in range(n_threads - 1):
            try:
                pool.submit(contextvars.copy_context().run, _as_caller, errors, blocks.run)
            except RuntimeError:  # the interpreter is shutting down: the caller does all
                break
        try:
            blocks.run(helper=False)
        except BaseException as error:  # its own block's error, or an interrupt
            blocks.stop(error)
            raise
        finally:
            blocks.wait_for_helpers()
        if blocks.error is not None:
            raise blocks.error
    finally:
        _exit_single_threaded_blas()
    return n_threads
