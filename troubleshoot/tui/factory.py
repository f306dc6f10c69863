"""Builds the App from the command line's own arguments: the CLI and the snapshot tests use this same factory."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from ..backend import Backend, Early, LiveBackend
from .app import TroubleshootApp

if TYPE_CHECKING:
    from ..core.playbooks import Catalog


def make_app(catalog: Catalog | None, host: str | None = None, read_only: bool = False,
             backend: Backend | None = None, live_events: bool = True, clock=None,
             early: Early | None = None, load_catalog: Callable[[], Catalog] | None = None) -> TroubleshootApp:
    """`early`: the first reads begun as the process started (backend.start_early), for the live daemon at `host`.
    `catalog` None: the app loads it with `load_catalog` once its first frame is drawn."""
    return TroubleshootApp(backend or LiveBackend(catalog, host, early),  # type: ignore[arg-type]
                           read_only=read_only, live_events=live_events, clock=clock, load_catalog=load_catalog)
