"""`python -m newsarchive` runs the command line."""

from newsarchive.cli import run

run()
