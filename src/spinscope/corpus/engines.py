"""Where a corpus is analysed: in this process, a pool of local processes, or a dask cluster.

Workers only analyse, each loading the models once and keeping them for its lifetime; results
come back to the caller (the batch), which alone writes the database. An engine never raises for
one bad article: the failure comes back as its reason.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
from collections.abc import Callable, Iterable, Sequence
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from typing import Any

from threadpoolctl import threadpool_limits

from ..analysis import Analysis
from ..document import Article
from ..encoder.runtime import usable_cores
from ..errors import BatchError
from ..pipeline import Analyzer

ENGINES = ("local", "dask")
#: Analyses in flight per worker: enough to keep workers busy, few enough to lose little on a kill.
IN_FLIGHT_PER_WORKER = 4
#: What a worker returns: ``(content hash, the Analysis or None, the error or None)``.
Result = tuple[str, Analysis | None, str | None]
Task = tuple[str, str, str, str | None]  # (content hash, text, id, language)
#: The BLAS and OpenMP thread caps a local dask cluster starts its processes with (dask's default is one).
BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")
#: Seconds the batch waits for a result from the process pool before it looks again for a dead worker.
LIVENESS_CHECK_SECONDS = 1.0
#: The name of the dask worker plugin that holds each worker's Analyzer.
DASK_PLUGIN = "spinscope-analyzer"


def load_analyzer(model_dir: str | None = None, cache: bool = True, threads: int | None = None) -> Analyzer:
    """The Analyzer of ``model_dir``, its encoder on ``threads`` threads (default: the encoder's own)."""
    return Analyzer(model_dir, cache=cache, threads=threads)


def analyze_task(analyzer: Analyzer, task: Task) -> Result:
    """Analyse one article; any failure comes back as its reason, never raised."""
    key, text, aid, language = task
    try:
        return key, analyzer.analyze(Article(text, id=aid, language=language)), None
    except Exception as error:  # one bad article must not stop the batch
        return key, None, f"{type(error).__name__}: {error}"


def threads_per_worker(workers: int) -> int:
    """The encoder threads of each of ``workers`` processes sharing this machine's cores."""
    return max(1, usable_cores() // max(1, workers))


def run_local(
    tasks: list[Task],
    on_result: Callable[[Result], None],
    workers: int = 1,
    model_dir: str | None = None,
    cache: bool = True,
    analyzer: Analyzer | None = None,
) -> None:
    """Analyse ``tasks`` in this process (``workers=1``; with ``analyzer`` when given) or in ``workers`` processes."""
    if workers <= 1:
        analyzer = analyzer if analyzer is not None else load_analyzer(model_dir, cache)
        for task in tasks:
            on_result(analyze_task(analyzer, task))
        return
    context = multiprocessing.get_context("spawn")
    inbox, outbox = context.Queue(), context.Queue()
    args = (inbox, outbox, model_dir, cache, threads_per_worker(workers))
    processes = [context.Process(target=_work, args=args, daemon=True) for _ in range(workers)]
    for process in processes:
        process.start()
    finished = False
    try:
        _exchange(tasks, on_result, inbox, outbox, processes)
        finished = True
    finally:
        _stop(processes, inbox, outbox, finished)


def _work(inbox: Queue, outbox: Queue, model_dir: str | None, cache: bool, threads: int) -> None:
    """A worker process: load the models once, then analyse the tasks of ``inbox`` until ``None``."""
    # Every worker's threads are capped, or N workers would fight over the cores: the encoder's
    # through its session options, numpy's BLAS and OpenMP pools (loaded with the pipeline) in
    # place, as the token scorers' products are large enough for BLAS to start a thread per core.
    threadpool_limits(threads)
    analyzer = load_analyzer(model_dir, cache, threads)
    for task in iter(inbox.get, None):
        outbox.put(analyze_task(analyzer, task))


def _exchange(
    tasks: Iterable[Task],
    on_result: Callable[[Result], None],
    inbox: Queue,
    outbox: Queue,
    processes: Sequence[BaseProcess],
) -> None:
    """Keep a few tasks per worker process in ``inbox`` and hand each result to ``on_result``."""
    todo = iter(tasks)
    limit = IN_FLIGHT_PER_WORKER * len(processes)
    in_flight = 0
    while True:
        for task in todo:
            inbox.put(task)
            in_flight += 1
            if in_flight >= limit:
                break
        if not in_flight:
            return
        if any(process.exitcode is not None for process in processes):  # none ends before its None
            raise BatchError("a worker process died (out of memory?); what was stored is kept: rerun to resume")
        try:
            result = outbox.get(timeout=LIVENESS_CHECK_SECONDS)
        except queue.Empty:
            continue
        in_flight -= 1
        on_result(result)


def _stop(processes: Sequence[BaseProcess], inbox: Queue, outbox: Queue, finished: bool) -> None:
    """End the worker processes: each after its last task when ``finished``, else at once."""
    for process in processes:
        if finished:
            inbox.put(None)
        else:
            process.terminate()
    for process in processes:
        process.join()
    if not finished:
        inbox.cancel_join_thread()  # tasks no worker will read must not keep this process from exiting
    inbox.close()
    outbox.close()


def _analyzer_plugin(model_dir: str | None, cache: bool, threads: int | None):
    """A dask worker plugin that loads the models once on every worker, and on any that joins later."""
    from distributed.diagnostics.plugin import WorkerPlugin  # a second to import: only for the dask engine

    class AnalyzerPlugin(WorkerPlugin):
        name = DASK_PLUGIN

        def setup(self, worker) -> None:
            if threads is not None:
                threadpool_limits(threads)
            self.analyzer = load_analyzer(model_dir, cache, threads)

    return AnalyzerPlugin()


def analyze_on_dask_worker(task: Task) -> Result:
    """Analyse one article with the Analyzer of the dask worker this runs on."""
    from distributed import get_worker  # imported already on a dask worker

    plugin: Any = get_worker().plugins[DASK_PLUGIN]  # an AnalyzerPlugin, set up on this worker
    return analyze_task(plugin.analyzer, task)


def run_dask(
    tasks: list[Task],
    on_result: Callable[[Result], None],
    workers: int = 2,
    scheduler: str | None = None,
    model_dir: str | None = None,
    cache: bool = True,
) -> None:
    """Analyse ``tasks`` on a dask.distributed cluster: a LocalCluster of ``workers`` processes
    when ``scheduler`` is ``None``, else the cluster at that address (its workers need
    spinscope installed). Every worker loads the models once, before the first task."""
    from distributed import Client, LocalCluster  # a second to import: only for this engine

    cluster = None
    threads = None if scheduler else threads_per_worker(workers)
    if scheduler:
        try:
            client = Client(scheduler, timeout="30s")
        except (OSError, TimeoutError) as error:
            raise BatchError(
                f"cannot reach the dask scheduler at {scheduler} ({error}): start one with `dask "
                "scheduler` and workers with `dask worker ADDRESS`, or use a local cluster"
            ) from None
    else:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
            env=dict.fromkeys(BLAS_THREAD_VARIABLES, str(threads)),
        )
        client = Client(cluster)
    try:
        _prepare_dask_workers(client, scheduler, _analyzer_plugin(model_dir, cache, threads))
        _exchange_dask(client, tasks, on_result)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _prepare_dask_workers(client, scheduler: str | None, plugin) -> None:
    """Wait for a worker, then load the models on every worker (``plugin``)."""
    try:
        client.wait_for_workers(1, timeout=120)
    except TimeoutError:
        raise BatchError(f"the dask cluster at {scheduler} has no workers") from None
    try:
        client.register_plugin(plugin)
    except Exception as error:  # whatever a remote worker raised
        raise BatchError(
            f"the dask workers cannot load spinscope's models ({type(error).__name__}: {error}); "
            "install the same spinscope version on every worker"
        ) from None


def _exchange_dask(client, tasks: list[Task], on_result: Callable[[Result], None]) -> None:
    """Keep a few tasks per worker thread in flight on the cluster and hand each result to ``on_result``."""
    from distributed import as_completed  # imported already by run_dask

    slots = sum(client.nthreads().values())
    todo = iter(tasks)
    running = as_completed()

    def submit_next() -> None:
        task = next(todo, None)
        if task is not None:
            running.add(client.submit(analyze_on_dask_worker, task, pure=False))

    for _ in range(max(2, IN_FLIGHT_PER_WORKER * slots)):
        submit_next()
    for future in running:
        try:
            result = future.result()
        except Exception as error:  # analyze_task never raises: this is the cluster
            raise BatchError(
                f"the dask cluster failed ({type(error).__name__}: {error}); what was stored is kept: rerun to resume"
            ) from None
        future.release()
        on_result(result)
        submit_next()
