"""Serving the application with uvicorn, in one process or several."""

from __future__ import annotations

from contextlib import suppress
from functools import partial
from pathlib import Path

from ...corpus.store import Store
from ...errors import MissingStoreError
from ...pipeline import model_folder
from .access import access_for
from .app import create_app
from .service import ServiceLimits


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    models: Path | None = None,
    db: Path | None = None,
    token: str | None = None,
    rate_limit: int | None = None,
    limits: ServiceLimits | None = None,
    allow_origins: tuple[str, ...] = (),
) -> None:
    """Run the API and the page with uvicorn; each worker process loads the models once.

    ``limits`` bound each worker's analysis queue, request time and cache (defaults:
    :class:`.service.ServiceLimits`); ``allow_origins`` are the web origins granted CORS besides
    the browser extension's own (:mod:`.cors`).

    On any address but loopback the API needs ``token`` (a :class:`~spinscope.errors.ConfigError`
    without one, before anything listens) and each client address gets ``rate_limit`` requests
    a minute (see :func:`.access.access_for`); each worker keeps its own buckets.

    Several workers each build the application from a factory that carries the settings:
    uvicorn pickles it into every worker process it spawns, so nothing goes through the
    environment.
    """
    import uvicorn  # the server itself: only when serving
    from uvicorn.supervisors import Multiprocess

    access = access_for(host, token, rate_limit)  # first: a shared server without a token never starts
    folder = model_folder(models)  # a missing model fails here, before any worker starts
    if db is not None and not Path(db).is_file():
        raise MissingStoreError(f"no corpus database at {db}: analyse a corpus into it first")
    if db is not None:
        with Store(db, create=False):  # not SQLite, or another schema: a StoreError before serving
            pass
    if workers <= 1:
        app = create_app(models=folder, db=db, access=access, limits=limits, allow_origins=allow_origins)
        uvicorn.run(app, host=host, port=port)
        return
    # uvicorn.run() takes several workers only with an import string, which cannot carry settings.
    config = uvicorn.Config(
        partial(create_app, models=folder, db=db, access=access, limits=limits, allow_origins=allow_origins),
        factory=True,
        host=host,
        port=port,
        workers=workers,
    )
    with suppress(KeyboardInterrupt):  # as in uvicorn.run(): Ctrl+C is how a server is stopped
        Multiprocess(config, sockets=[config.bind_socket()]).run()
