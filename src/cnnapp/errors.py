"""The one exception type for bad input: a missing file, a malformed dataset, an unusable argument; and how a
name from outside is shown safely on one line."""


class CnnappError(Exception):
    """A problem with the user's input, reported as one line and exit code 2.

    parameter: the argument the problem is with, when the message names one. The message names it by its Python
    name in backticks (`out`, `init_from`), never by a flag: the command line puts the running command's flag there.
    """

    def __init__(self, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter


def printable(text: str) -> str:
    """text with every character a terminal would act on (newline, tab, escape, other controls) and every byte
    that was not UTF-8 in a file name written as a backslash escape, so that it shows as one plain line."""
    shown = []
    for char in str(text):
        if 0xDC80 <= ord(char) <= 0xDCFF:  # a byte os.fsdecode could not decode
            shown.append(f"\\x{ord(char) - 0xDC00:02x}")
        elif not char.isprintable():
            shown.append(char.encode("unicode_escape").decode("ascii"))
        else:
            shown.append(char)
    return "".join(shown)
