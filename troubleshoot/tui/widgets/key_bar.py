"""The key bar at the bottom of a screen: the keys its bindings show, as Textual's Footer shows them, in one widget.

Textual's Footer is a container of one FooterKey widget per key (8 on the board), composed again whenever the
focus or a binding changes (a key press into the filter box, a tab switched): every one styled, laid out and
rendered. This is one line, rendered from the screen's active bindings when they change: ~7 widgets fewer to mount
and style before the board's first frame, and no recomposition per focus change. A click on a key presses it."""
from __future__ import annotations

from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

if TYPE_CHECKING:
    from textual import events
    from textual.screen import Screen

SEPARATOR = "▏"  # before the command palette's key, on the right (Footer draws a `vkey` border there)


class KeyBar(Widget, can_focus=False):
    COMPONENT_CLASSES = {"key-bar--key", "key-bar--description", "key-bar--separator", "key-bar--disabled"}

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - textual's own name
        super().__init__(id=id)
        self._keys: list[tuple[int, int, str, bool]] = []  # (start, end, key, enabled) of each key drawn

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if screen is self.screen:
            self.refresh()

    def _shown(self) -> tuple[list[tuple[str, str, str, bool]], tuple[str, str, str, bool] | None]:
        """(key, shown as, description, enabled) of each binding shown, one per action (its first key), as Footer
        lists them; and the command palette's, shown on the right."""
        active = self.screen.active_bindings
        keys: list[tuple[str, str, str, bool]] = []
        actions: set[str] = set()
        for _node, binding, enabled, _tooltip in active.values():
            if binding.show and binding.action not in actions:
                actions.add(binding.action)
                keys.append((binding.key, self.app.get_key_display(binding), binding.description, enabled))
        palette = None
        if self.app.ENABLE_COMMAND_PALETTE and self.app.COMMAND_PALETTE_BINDING in active:
            _node, binding, enabled, _tooltip = active[self.app.COMMAND_PALETTE_BINDING]
            palette = (binding.key, self.app.get_key_display(binding), binding.description, enabled)
        return keys, palette

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-bar--key")
        description_style = self.get_component_rich_style("key-bar--description")
        dim = self.get_component_rich_style("key-bar--disabled")
        keys, palette = self._shown()

        def style(base: Style, enabled: bool) -> Style:
            return base if enabled else base + dim
        width = self.size.width
        right = Text()
        if palette is not None:
            key, shown, description, enabled = palette
            right.append(SEPARATOR, self.get_component_rich_style("key-bar--separator"))
            right.append(shown, style(key_style, enabled))
            right.append(f" {description} ", style(description_style, enabled))
        room = max(0, width - right.cell_len)
        text = Text(no_wrap=True, overflow="crop", end="")
        self._keys = []
        for key, shown, description, enabled in keys:
            start = text.cell_len
            if start >= room:
                break
            text.append(f" {shown} ", style(key_style, enabled))
            if description:
                text.append(f"{description} ", style(description_style, enabled))
            self._keys.append((start, min(text.cell_len, room), key, enabled))
        text.truncate(room)
        text.pad_right(room - text.cell_len)
        if palette is not None and right.cell_len <= width:
            self._keys.append((room + 1, width, palette[0], palette[3]))
            text.append_text(right)
        return text

    def on_mouse_down(self, event: events.MouseDown) -> None:
        for start, end, key, enabled in self._keys:
            if start <= event.x < end:
                if enabled:
                    self.app.simulate_key(key)
                else:
                    self.app.bell()
                return
