"""`newsarchive schedule`: the scheduler's own command (scheduler.py, the same as `python scheduler.py`)."""

from scheduler import schedule

COMMANDS = [schedule]
