"""Builds the App from the command line's own arguments: the CLI and the snapshot tests use this same factory."""
from __future__ import annotations

from ..backend import Backend, Early, LiveBackend
from ..core.playbooks import Catalog
from .app import TroubleshootApp


def make_app(catalog: Catalog, host: str | None = None, read_only: bool = False,
             backend: Backend | None = None, live_events: bool = True, clock=None,
             early: Early | None = None) -> TroubleshootApp:
    """`early`: the first reads begun as the process started (backend.start_early), for the live daemon at `host`."""
    return TroubleshootApp(backend or LiveBackend(catalog, host, early), read_only=read_only, live_events=live_events,
                           clock=clock)
