"""The pure core: facts, detectors, playbooks, ranking. Imports neither textual nor docker (tests enforce it)."""
