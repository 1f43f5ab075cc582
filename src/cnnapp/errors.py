"""The one exception type for bad input: a missing file, a malformed dataset, an unusable argument."""


class CnnappError(Exception):
    """A problem with the user's input, reported as one line and exit code 2."""
