"""troubleshoot: diagnose broken Docker containers with incident playbooks."""
__version__ = "0.1.0"
