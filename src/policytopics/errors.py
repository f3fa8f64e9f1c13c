"""The exception every user-facing error derives from.

The CLI turns a ``PolicytopicsError`` into one line on stderr and exit code 2; any other
exception is a bug and keeps its traceback.
"""


class PolicytopicsError(ValueError):
    """A problem with the user's input (config, corpus, resource file), not a bug."""
