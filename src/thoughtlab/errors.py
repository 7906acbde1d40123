"""User-facing errors: one line saying what was wrong and how to fix it.

The CLI prints the message of a :class:`UserError` and exits with status 2,
without a traceback.  Library code raises a subclass where the input, not the
code, is at fault.
"""


class UserError(Exception):
    """Bad input from the user (unknown name, missing file, wrong shape, NaN...)."""


class UnknownName(UserError):
    """A name (study, scale, metric, extractor...) that thoughtlab does not know."""

    def __init__(self, kind: str, name: str, known: list[str] | tuple[str, ...]):
        super().__init__(f"unknown {kind} {name!r}; choose one of: {', '.join(sorted(known))}")


class BadInput(UserError):
    """Data that cannot be used as given (shape, NaN, corrupt file...)."""
