"""The terminal UI (textual). Only `troubleshoot` with no subcommand (or `troubleshoot tui`) imports it."""
