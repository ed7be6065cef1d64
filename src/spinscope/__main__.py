"""``python -m spinscope``: the command line."""

from .shells.cli import app

app()
