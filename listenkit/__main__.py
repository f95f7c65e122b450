"""``python -m listenkit`` runs the command line."""

from listenkit.cli import run

run()
