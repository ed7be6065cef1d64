"""Where a corpus is analysed: in this process, a pool of local processes, or a dask cluster.

Workers only analyse, each loading the models once; results come back to the caller (the
batch), which alone writes the database. An engine never raises for one bad article: the
failure comes back as its reason.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from threadpoolctl import threadpool_limits

from ..analysis import Analysis
from ..document import Article
from ..encoder.runtime import THREADS_VARIABLE, usable_cores
from ..errors import BatchError
from ..pipeline import Analyzer

ENGINES = ("local", "dask")
#: Analyses in flight per worker: enough to keep workers busy, few enough to lose little on a kill.
IN_FLIGHT_PER_WORKER = 4
#: What a worker returns: ``(content hash, the Analysis or None, the error or None)``.
Result = tuple[str, Analysis | None, str | None]
Task = tuple[str, str, str, str | None]  # (content hash, text, id, language)
#: The environment variables that cap a worker's threads: the encoder's, OpenMP's and OpenBLAS's.
THREAD_VARIABLES = (THREADS_VARIABLE, "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")

_ANALYZERS: dict = {}


def worker_analyzer(model_dir: str | None = None, cache: bool = True) -> Analyzer:
    """The Analyzer of this process, loaded on first use and kept (one per model folder)."""
    key = (str(model_dir) if model_dir else None, cache)
    if key not in _ANALYZERS:
        _ANALYZERS[key] = Analyzer(model_dir, cache=cache)
    return _ANALYZERS[key]


def analyze_task(task: Task, model_dir: str | None = None, cache: bool = True) -> Result:
    """Analyse one article in a worker; any failure comes back as its reason, never raised."""
    key, text, aid, language = task
    try:
        analysis = worker_analyzer(model_dir, cache).analyze(Article(text, id=aid, language=language))
        return key, analysis, None
    except Exception as error:  # noqa: BLE001 - one bad article must not stop the batch
        return key, None, f"{type(error).__name__}: {error}"


def _init_worker(model_dir: str | None, cache: bool, threads: int) -> None:
    # Before the encoder loads: its onnxruntime threads (and numpy's BLAS ones) would
    # otherwise take several cores in every worker, and N workers would fight over them.
    os.environ.update(dict.fromkeys(THREAD_VARIABLES, str(threads)))
    # numpy is loaded already (the pipeline imports it), so its BLAS pool is limited in place:
    # the token scorers' products are large enough for BLAS to start a thread per core.
    threadpool_limits(threads)
    worker_analyzer(model_dir, cache)


def _warm_worker(model_dir: str | None, cache: bool) -> str:
    worker_analyzer(model_dir, cache)
    return "ready"


def threads_per_worker(workers: int) -> int:
    """The encoder threads of each of ``workers`` processes sharing this machine's cores."""
    return max(1, usable_cores() // max(1, workers))


def run_local(tasks: list[Task], on_result: Callable[[Result], None], workers: int = 1,
              model_dir: str | None = None, cache: bool = True) -> None:
    """Analyse ``tasks`` in this process (``workers=1``) or a pool of worker processes."""
    if workers <= 1:
        for task in tasks:
            on_result(analyze_task(task, model_dir, cache))
        return
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker,
                               initargs=(model_dir, cache, threads_per_worker(workers)))
    todo = iter(tasks)
    pending: set = set()
    try:
        while True:
            for task in todo:
                pending.add(pool.submit(analyze_task, task, model_dir, cache))
                if len(pending) >= IN_FLIGHT_PER_WORKER * workers:
                    break
            if not pending:
                break
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                on_result(future.result())
    except BrokenProcessPool:
        raise BatchError("a worker process died (out of memory?); what was stored is kept: rerun to resume") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def run_dask(tasks: list[Task], on_result: Callable[[Result], None], workers: int = 2,
             scheduler: str | None = None, model_dir: str | None = None, cache: bool = True) -> None:
    """Analyse ``tasks`` on a dask.distributed cluster: a LocalCluster of ``workers`` processes
    when ``scheduler`` is ``None``, else the cluster at that address (its workers need
    spinscope installed). Every worker loads the models once, before the first task."""
    from distributed import Client, LocalCluster, as_completed  # a second to import: only for this engine
    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout="30s")
        except (OSError, TimeoutError) as error:
            raise BatchError(f"cannot reach the dask scheduler at {scheduler} ({error}): start one with "
                             "`dask scheduler` and workers with `dask worker ADDRESS`, or use a local cluster") from None
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR,
                               env=dict.fromkeys(THREAD_VARIABLES, str(threads_per_worker(workers))))
        client = Client(cluster)
    try:
        try:
            client.wait_for_workers(1, timeout=120)
        except TimeoutError:
            raise BatchError(f"the dask cluster at {scheduler} has no workers") from None
        try:
            client.run(_warm_worker, model_dir, cache)  # load the models on every worker, once
        except Exception as error:  # noqa: BLE001 - whatever a remote worker raised
            raise BatchError(f"the dask workers cannot load spinscope's models ({type(error).__name__}: {error}); "
                             "install the same spinscope version on every worker") from None
        slots = sum(client.nthreads().values())
        todo = iter(tasks)
        running = as_completed()

        def submit_next() -> None:
            task = next(todo, None)
            if task is not None:
                running.add(client.submit(analyze_task, task, model_dir, cache, pure=False))

        for _ in range(max(2, IN_FLIGHT_PER_WORKER * slots)):
            submit_next()
        for future in running:
            try:
                result = future.result()
            except Exception as error:  # noqa: BLE001 - analyze_task never raises: this is the cluster
                raise BatchError(f"the dask cluster failed ({type(error).__name__}: {error}); what was stored is "
                                 "kept: rerun to resume") from None
            future.release()
            on_result(result)
            submit_next()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

