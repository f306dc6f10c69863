from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Callable

from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets.data_table import Row as TableRow
from textual.widgets.data_table import RowKey

from ...backend import Row
from ...core.facts import Observation
from ...core.compose import group, member_label
from ..rows import (COLUMNS, cells, key_project, matches_filter, middle_ellipsis, order, project_cells, project_key,
                    uptime)

if TYPE_CHECKING:
    from ...core.diagnose import Finding

MIN_NAME = 12  # the name column at its narrowest (a 12-character id fits)
FINDING_ROOM = 17  # what a long name leaves to the top finding: "CRIT …interpreter" (the Findings tab has it all)
MIN_FINDING = 8
BADGE = len(" CRIT  ")  # a top finding's badge and its space, kept whole when the finding is cut
KEYS = tuple(key for key, _label in COLUMNS)
HOST_COLUMN = ("host", "HOST")  # first, when the board shows several hosts (hosts.py)
MAX_HOST = 16  # the host column at its widest (hosts.short_names; a longer one is cut in the middle)


@dataclass
class _Shown:
    """One container's cells, kept between repaints: rebuilt only when what they show changed."""
    row: Row
    obs: Observation | None
    top: tuple[str, str] | None  # the top finding's (severity, playbook)
    age: str
    cells: tuple[Text, ...]
    lens: tuple[int, ...]  # each cell's width
    fitted: tuple[Text, ...] = ()  # the cells cut to `fitted_for`
    fitted_for: tuple[int, ...] = ()
    label: str | None = None  # a Compose member's name under its project line (None: its container name)
    down: bool = False  # its host does not answer (several hosts): kept, dimmed, its host marked


class ContainerTable(DataTable):
    """The board: one row per container, worst first. Cells are rich Text: never parsed as markup.

    A repaint with 1,000 containers must not hold keys back: cells are kept per container and rebuilt only when what
    they show changed, every column has a width (computed here from the cells' lengths: DataTable never measures a
    cell), and the rows are replaced in one go (`_replace_rows`) rather than cleared and added one by one."""

    host_down: Callable[[str], bool] | None = None  # several hosts: cid -> its host does not answer now
    host_of: Callable[[str], str] | None = None  # several hosts: cid -> the name of its host (a HOST column first); None: one host, no column

    @property
    def _columns(self) -> tuple[tuple[str, str], ...]:
        return ((HOST_COLUMN,) + COLUMNS) if self.host_of is not None else COLUMNS

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = False
        self.user_moved = False  # until the user moves, the cursor stays on the worst container
        self._shown_with: tuple | None = None  # the last show()'s arguments: shown again in a new width
        self._shown: dict[str, _Shown] = {}
        self._row_keys: dict[str, RowKey] = {}
        self.folded: set[str] = set()  # Compose projects shown as their line only
        self.projects: dict[str, list[str]] = {}  # each project shown: its members' ids, worst first
        for key, label in self._columns:
            self.add_column(label, key=key, width=Text(label).cell_len)

    def _widths(self, shown: list[_Shown]) -> dict[str, int]:
        """Column widths for what is shown, in the table's width: state, restarts and age as they are; then the
        name (it says which container: cut in the middle, never its end), then the top finding; the image last
        (cut, or reached by scrolling right)."""
        need = {key: max([Text(label).cell_len] + [s.lens[i] for s in shown])
                for i, (key, label) in enumerate(self._columns)}
        host = min(need.get("host", 0), MAX_HOST)
        if "host" in need:
            need["host"] = host
        if not self.size.width:  # not laid out yet: on_resize shows it again in its real width
            return {**need, "name": min(28, need["name"])}
        scrollbar = self.styles.scrollbar_size_vertical if len(shown) + 2 > self.size.height else 0  # + header,
        room = (self.size.width - scrollbar - 2 * self.cell_padding * len(self._columns)  # and a horizontal bar
                - need["state"] - need["restarts"] - need["uptime"] - host)
        name = max(MIN_NAME, min(need["name"], room - min(need["finding"], FINDING_ROOM)))
        return {**need, "name": name, "finding": max(MIN_FINDING, min(need["finding"], room - name))}

    rendered = -1  # the last `shown` whose lines the compositor rendered (BoardScreen.repaint: the board written)

    @property
    def shown(self) -> int:
        """How many times the rows were replaced (`_replace_rows`): `rendered` reaches it once a frame drew them."""
        return self._update_count

    def render_line(self, y: int):
        self.rendered = self._update_count
        return super().render_line(y)

    def on_resize(self) -> None:
        if self._shown_with is not None:
            self.show(*self._shown_with)

    def action_cursor_down(self) -> None:
        self.user_moved = True
        super().action_cursor_down()

    def action_cursor_up(self) -> None:
        self.user_moved = True
        super().action_cursor_up()

    def _host_cell(self, cid: str, down: bool) -> Text:
        assert self.host_of is not None
        if down:
            return Text(f"✗ {self.host_of(cid)}", style="bold red")
        return Text(self.host_of(cid), style="cyan")

    def _cells(self, cid: str, row: Row, obs: Observation | None, found: list[Finding], now: datetime,
               label: str | None = None) -> _Shown:
        top = (found[0].severity, found[0].playbook_id) if found else None
        age = uptime(obs, row, now)
        was = self._shown.get(cid)
        down = self.host_down is not None and self.host_down(cid)
        if (was is not None and was.obs is obs and was.row == row and was.top == top and was.age == age
                and was.label == label and was.down == down):
            return was
        made = cells(row, obs, found, now, label)
        if self.host_of is not None:
            made = (self._host_cell(cid, down),) + made
        if down:  # what was known before its host stopped answering: kept, dimmed
            made = made[:1] + tuple(Text(c.plain, style="dim") for c in made[1:])
        shown = _Shown(row, obs, top, age, made, tuple(c.cell_len for c in made), label=label, down=down)
        self._shown[cid] = shown
        return shown

    def show(self, rows: dict[str, Row], observations: dict[str, Observation], findings: dict[str, list[Finding]],
             now: datetime, text_filter: str = "", running_only: bool = False) -> None:
        self._shown_with = (rows, observations, findings, now, text_filter, running_only)
        if not self.size.width and not self.row_count:
            return  # not laid out yet: on_resize shows it in its width (once: each show clears the lines drawn)
        selected = self.selected_key
        matched = [cid for cid in order(rows, findings, set(observations))
                   if matches_filter(text_filter, rows[cid], findings.get(cid) or [])
                   and (not running_only or (observations[cid].container.state if cid in observations
                                             else rows[cid].state) == "running")]
        ids, shown = self._grouped(matched, rows, observations, findings, now)
        for cid in [cid for cid in self._shown if cid not in rows]:
            del self._shown[cid]  # a container gone: its cells too
        widths = self._widths(shown)
        keys = tuple(key for key, _label in self._columns)
        fit = tuple(widths[key] for key in keys)
        for s in shown:
            if s.fitted_for != fit:  # cut to the column widths (the [lab] mark and the badge kept when they fit)
                s.fitted = tuple(cell if n <= w else middle_ellipsis(cell, w, keep=BADGE if key == "finding" else 0)
                                 for key, cell, n, w in zip(keys, s.cells, s.lens, fit))  # (lens: its cell_len)
                s.fitted_for = fit
        self._replace_rows(ids, [s.fitted for s in shown], widths)
        if self.user_moved and selected in ids:
            self.move_cursor(row=ids.index(selected), animate=False)
        elif self.user_moved and selected is not None and (selected_row := rows.get(selected)) is not None \
                and project_key(self.group_of(selected, selected_row)) in ids:  # its project folded: its project's line
            self.move_cursor(row=ids.index(project_key(self.group_of(selected, selected_row))), animate=False)
        elif ids:  # the worst container (under its project's line, when it has one)
            self.move_cursor(row=next((i for i, key in enumerate(ids) if key_project(key) is None), 0),
                             animate=False)

    def _grouped(self, matched: list[str], rows: dict[str, Row], observations: dict[str, Observation],
                 findings: dict[str, list[Finding]], now: datetime) -> tuple[list[str], list[_Shown]]:
        """The lines shown: each Compose project's line where its worst member is, its members under it (named by
        their service) unless it is folded; loose containers as they are. Without projects: `matched` as it is."""
        project_of = {cid: self.group_of(cid, rows[cid]) for cid in matched}
        self.projects = {}
        if not any(project_of.values()):
            return matched, [self._cells(cid, rows[cid], observations.get(cid), findings.get(cid) or [], now)
                             for cid in matched]
        replicas: dict[tuple[str, str], int] = {}
        for row in rows.values():
            if row.compose is not None:
                service = (row.compose.project, row.compose.service)
                replicas[service] = replicas.get(service, 0) + 1
        ids: list[str] = []
        shown: list[_Shown] = []
        for g in group(matched, project_of):
            if not g.project:
                cid = g.members[0]
                ids.append(cid)
                shown.append(self._cells(cid, rows[cid], observations.get(cid), findings.get(cid) or [], now))
                continue
            self.projects[g.project] = list(g.members)
            folded = g.project in self.folded
            members = [(rows[cid], observations.get(cid), findings.get(cid) or []) for cid in g.members]
            made = project_cells(g.project.rpartition("@")[0] if self.host_of is not None else g.project, members,
                                 folded)
            if self.host_of is not None:
                made = (self._host_cell(g.members[0], self.host_down is not None and self.host_down(g.members[0])),
                        ) + made
            ids.append(project_key(g.project))
            shown.append(_Shown(Row(project_key(g.project), g.project, "", "", ""), None, None, "", made,
                                tuple(c.cell_len for c in made)))
            if folded:
                continue
            for cid, (row, obs, found) in zip(g.members, members):
                compose = obs.container.compose if obs is not None and obs.container.compose else row.compose
                label = (member_label(compose, replicas.get((compose.project, compose.service), 1))
                         if compose is not None else None)
                ids.append(cid)
                shown.append(self._cells(cid, row, obs, found, now, label))
        return ids, shown

    def group_of(self, cid: str, row: Row) -> str:
        """The Compose group a row is shown in: its project; with several hosts, its project on its host
        (`shop@1`: ids are `ID@N`, and two hosts' projects of one name are two projects). "" when loose."""
        project = row.project
        if project and self.host_of is not None:
            return f"{project}@{cid.rpartition('@')[2]}"
        return project

    def toggle_project(self, project: str) -> None:
        """Fold a project to its line, or unfold it; the cursor goes to its line."""
        if project in self.folded:
            self.folded.discard(project)
        else:
            self.folded.add(project)
        key = project_key(project)
        if self._shown_with is not None:
            self.show(*self._shown_with)
        if key in self._row_keys and self._row_keys[key] in self._row_locations:
            self.user_moved = True
            self.move_cursor(row=self._row_locations.get(self._row_keys[key]), animate=False)

    def _replace_rows(self, ids: list[str], data: list[tuple[Text, ...]], widths: dict[str, int]) -> None:
        """Every row at once. DataTable has no bulk update: clear() and one add_row() per row, then measuring every
        cell when idle, took 0.1 to 0.2 s for 1,000 rows, at each repaint. Here its row tables (textual is pinned:
        pyproject.toml) are rebuilt in one pass, and since every column has a width nothing is measured; only the
        lines on screen are rendered, as before. Scroll position and cursor stay (show() moves the cursor)."""
        for column in self.ordered_columns:
            width = widths[column.key.value or ""]
            column.width, column.content_width, column.auto_width = width, width, False
        keys = [self._row_keys.get(cid) or self._row_keys.setdefault(cid, RowKey(cid)) for cid in ids]
        if len(self._row_keys) > 2 * len(ids) + 100:  # forget the keys of containers long gone
            self._row_keys = {cid: key for cid, key in zip(ids, keys)}
        column_keys = [column.key for column in self.ordered_columns]
        self._data = {key: dict(zip(column_keys, row)) for key, row in zip(keys, data)}
        self.rows = {key: TableRow(key, 1) for key in keys}
        self._row_locations = TwoWayDict({key: i for i, key in enumerate(keys)})
        self._new_rows.clear()
        self._updated_cells.clear()
        self._clear_caches()
        self._update_count += 1
        self._update_dimensions(())  # the virtual size, from the column widths and the row count: nothing measured
        if not keys:
            self.cursor_coordinate = Coordinate(0, 0)
        self.refresh()

    @property
    def selected_key(self) -> str | None:
        """The row key under the cursor: a container's id, or a project line's (rows.project_key)."""
        if self.row_count == 0:
            return None
        try:
            key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        except Exception:  # no row under the cursor
            return None
        return key.value

    @property
    def selected_id(self) -> str | None:
        """The selected container's id (None on a project's line)."""
        key = self.selected_key
        return None if key_project(key) is not None else key

    @property
    def selected_project(self) -> str | None:
        """The project whose line is selected (None on a container's row)."""
        return key_project(self.selected_key)
