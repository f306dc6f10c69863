"""Builds the App from the command line's own arguments: the CLI and the snapshot tests use this same factory."""
from __future__ import annotations

from ..backend import Backend, LiveBackend
from ..core.playbooks import Catalog
from .app import TroubleshootApp


def make_app(catalog: Catalog, host: str | None = None, read_only: bool = False,
             backend: Backend | None = None, live_events: bool = True, clock=None) -> TroubleshootApp:
    return TroubleshootApp(backend or LiveBackend(catalog, host), read_only=read_only, live_events=live_events,
                           clock=clock)
