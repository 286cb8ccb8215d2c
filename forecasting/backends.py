"""Where the per-chunk forecasting work runs: this process or a Dask cluster, one interface.

:func:`forecasting.engine.forecast_demand` splits the SKUs into chunks and hands them, with
what every chunk shares, to the backend that ``ForecastConfig.backend`` names (chosen once,
by :func:`backend_for` from :data:`BACKENDS`). Every backend returns the chunks' results in
the chunks' order, and per-chunk work is a pure function, so the forecast is the same whatever
runs it. Dask is imported only when the Dask backend is used.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Backend(Protocol):
    def map(self, work: Callable[..., T], chunks: Iterable[Any], *, total: int,
            **shared: Any) -> list[T]:
        """``[work(chunk, **shared, n_jobs=...) for chunk in chunks]``, in the chunks' order
        (``total``: how many chunks, for progress)."""
        ...


@dataclass(frozen=True)
class LocalBackend:
    """One chunk after the other in this process, each fitted with ``n_jobs`` processes
    (statsforecast); a progress bar on stderr when ``progress``."""

    n_jobs: int = 1
    progress: bool = False

    def map(self, work: Callable[..., T], chunks: Iterable[Any], *, total: int,
            **shared: Any) -> list[T]:
        if self.progress:
            from tqdm import tqdm

            chunks = tqdm(chunks, total=total, desc="forecast", unit="chunk", file=sys.stderr)
        return [work(chunk, **shared, n_jobs=self.n_jobs) for chunk in chunks]


@dataclass(frozen=True)
class DaskBackend:
    """Chunks spread over a Dask cluster: the scheduler at ``address`` (a client opened and
    closed here), or the current default client when None. One process per chunk
    (``n_jobs=1``): the cluster's workers are the parallelism."""

    address: str | None = None

    def map(self, work: Callable[..., T], chunks: Iterable[Any], *, total: int,
            **shared: Any) -> list[T]:
        from dask.distributed import Client, get_client

        client = Client(self.address) if self.address else get_client()
        futures = client.map(work, list(chunks), **shared, n_jobs=1, pure=False)
        parts = client.gather(futures)
        if self.address:
            client.close()
        return parts


# backend name (ForecastConfig.backend) -> how to build it from the config's knobs
BACKENDS: dict[str, Callable[..., Backend]] = {
    "local": lambda *, n_jobs, progress, dask_address: LocalBackend(n_jobs, progress),
    "dask": lambda *, n_jobs, progress, dask_address: DaskBackend(dask_address),
}


def backend_for(name: str, *, n_jobs: int = 1, progress: bool = False,
                dask_address: str | None = None) -> Backend:
    """The backend called ``name`` (a key of :data:`BACKENDS`); ``ValueError`` otherwise."""
    build = BACKENDS.get(name)
    if build is None:
        raise ValueError(f"backend must be 'local' or 'dask', got {name!r}")
    return build(n_jobs=n_jobs, progress=progress, dask_address=dask_address)
