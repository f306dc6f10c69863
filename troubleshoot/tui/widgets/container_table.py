from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widgets import DataTable

from ...backend import Row
from ...core.diagnose import Finding
from ...core.facts import Observation
from ..rows import COLUMNS, cells, matches_filter, middle_ellipsis, order

MIN_NAME = 12  # the name column at its narrowest (a 12-character id fits)
FINDING_ROOM = 17  # what a long name leaves to the top finding: "CRIT …interpreter" (the Findings tab has it all)
MIN_FINDING = 8
BADGE = len(" CRIT  ")  # a top finding's badge and its space, kept whole when the finding is cut


class ContainerTable(DataTable):
    """The board: one row per container, worst first. Cells are rich Text: never parsed as markup."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = False
        self.user_moved = False  # until the user moves, the cursor stays on the worst container
        self._shown_with: tuple | None = None  # the last show()'s arguments: shown again in a new width
        self._columns({})

    def _columns(self, widths: dict[str, int]) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key, width=widths.get(key))

    def _widths(self, shown: list[tuple[str, tuple[Text, ...]]]) -> dict[str, int]:
        """Column widths for what is shown, in the table's width: state, restarts and age as they are; then the
        name (it says which container: cut in the middle, never its end), then the top finding; the image last
        (cut, or reached by scrolling right)."""
        need = {key: max([Text(label).cell_len] + [row[i].cell_len for _cid, row in shown])
                for i, (key, label) in enumerate(COLUMNS)}
        if not self.size.width:  # not laid out yet: on_resize shows it again in its real width
            return {"name": min(28, need["name"])}
        scrollbar = self.styles.scrollbar_size_vertical if len(shown) + 2 > self.size.height else 0  # + header,
        room = (self.size.width - scrollbar - 2 * self.cell_padding * len(COLUMNS)  # and a horizontal bar
                - need["state"] - need["restarts"] - need["uptime"])
        name = max(MIN_NAME, min(need["name"], room - min(need["finding"], FINDING_ROOM)))
        return {"name": name, "finding": max(MIN_FINDING, min(need["finding"], room - name))}

    def on_resize(self) -> None:
        if self._shown_with is not None:
            self.show(*self._shown_with)

    def action_cursor_down(self) -> None:
        self.user_moved = True
        super().action_cursor_down()

    def action_cursor_up(self) -> None:
        self.user_moved = True
        super().action_cursor_up()

    def show(self, rows: dict[str, Row], observations: dict[str, Observation], findings: dict[str, list[Finding]],
             now: datetime, text_filter: str = "", running_only: bool = False) -> None:
        self._shown_with = (rows, observations, findings, now, text_filter, running_only)
        selected = self.selected_id
        ids = [cid for cid in order(rows, findings, set(observations))
               if matches_filter(text_filter, rows[cid], findings.get(cid) or [])
               and (not running_only or (observations[cid].container.state if cid in observations
                                         else rows[cid].state) == "running")]
        shown = [(cid, cells(rows[cid], observations.get(cid), findings.get(cid) or [], now)) for cid in ids]
        self.clear(columns=True)  # column widths are recomputed from what is shown now (the [lab] mark included)
        widths = self._widths(shown)
        self._columns(widths)
        for cid, row in shown:
            self.add_row(*(middle_ellipsis(cell, widths[key], keep=BADGE if key == "finding" else 0)
                           if key in widths else cell for (key, _label), cell in zip(COLUMNS, row)), key=cid)
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
