"""The user-facing entry points (HTTP API, CLI). They start flow runs, so they sit above ``flows``."""
