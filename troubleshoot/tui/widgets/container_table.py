from __future__ import annotations

from datetime import datetime

from textual.widgets import DataTable

from ...backend import Row
from ...core.diagnose import Finding
from ...core.facts import Observation
from ..rows import COLUMNS, cells, matches_filter, order


class ContainerTable(DataTable):
    """The board: one row per container, worst first. Cells are rich Text: never parsed as markup."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = False
        self.user_moved = False  # until the user moves, the cursor stays on the worst container
        self._columns()

    def _columns(self, name_width: int | None = None) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key, width=name_width if key == "name" else None)

    def action_cursor_down(self) -> None:
        self.user_moved = True
        super().action_cursor_down()

    def action_cursor_up(self) -> None:
        self.user_moved = True
        super().action_cursor_up()

    def show(self, rows: dict[str, Row], observations: dict[str, Observation], findings: dict[str, list[Finding]],
             now: datetime, text_filter: str = "", running_only: bool = False) -> None:
        selected = self.selected_id
        ids = [cid for cid in order(rows, findings, set(observations))
               if matches_filter(text_filter, rows[cid], findings.get(cid) or [])
               and (not running_only or (observations[cid].container.state if cid in observations
                                         else rows[cid].state) == "running")]
        shown = [(cid, cells(rows[cid], observations.get(cid), findings.get(cid) or [], now)) for cid in ids]
        self.clear(columns=True)  # column widths are recomputed from what is shown now (the [lab] mark included)
        self._columns(min(28, max([len(row[0].plain) for _cid, row in shown] + [9])))
        for cid, row in shown:
            self.add_row(*row, key=cid)
        if self.user_moved and selected in ids:
            self.move_cursor(row=ids.index(selected), animate=False)
        elif ids:
            self.move_cursor(row=0, animate=False)

    @property
    def selected_id(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        except Exception:  # no row under the cursor
            return None
        return key.value
