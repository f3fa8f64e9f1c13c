"""The exception every user-facing error derives from.

The CLI turns a ``PolicytopicsError`` into one line on stderr and exit code 2; any other
exception is a bug and keeps its traceback.
"""


class PolicytopicsError(ValueError):
    """A problem with the user's input (config, corpus, resource file), not a bug."""


class RunFolderConflictError(PolicytopicsError):
    """A run would replace a run folder that was made from another config (or is no run folder).

    Raised before any stage runs; ``--force`` on the command line (``force=True`` from
    Python) replaces the folder anyway, another ``name`` writes beside it.
    """


class ArtifactMismatchError(PolicytopicsError):
    """Saved files of a run folder do not belong together: a file differs from the hash its
    ``manifest.json`` records, is missing from it, or the model and its dictionary disagree."""
