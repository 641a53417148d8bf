"""The one error a command raises for a user's mistake it found itself.

Its own module so that a command defined outside ``sim.cli`` (``sim.bench``)
can raise it without importing the CLI that imports the command.
"""


class CliError(Exception):
    """A user's mistake the command found itself (an unwritable log, say): ``tagsim`` prints its
    message on one line and exits 1."""
