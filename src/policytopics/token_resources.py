"""The dictionary and stopword files of tokenisation: where they are and how they are read.

The shipped development-zone dictionary and stopword lists live in ``resources/``; user
files are named by ``tokenize.dictionaries`` and ``tokenize.stopword_files``. Both formats
allow ``#`` comments and blank lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from policytopics.errors import PolicytopicsError

__all__ = [
    "DEFAULT_DICTIONARY",
    "DEFAULT_STOPWORD_FILES",
    "DictionaryEntry",
    "ResourceError",
    "existing_files",
    "read_dictionary",
    "read_stopwords",
]

#: The folder of the shipped resource files.
RESOURCES = Path(__file__).parent / "resources"
#: The development-zone dictionary, loaded on top of jieba's own (``tokenize.default_dictionary``).
DEFAULT_DICTIONARY = RESOURCES / "devzone_dict.txt"
#: The general and speech-filler stopword lists (``tokenize.default_stopwords``).
DEFAULT_STOPWORD_FILES = (RESOURCES / "stopwords_general.txt", RESOURCES / "stopwords_speech.txt")

_DICT_LINE_RE = re.compile(r"^(?P<word>\S+)(?:\s+(?P<freq>\d+))?(?:\s+(?P<tag>[A-Za-z]+))?$")


class ResourceError(PolicytopicsError):
    """A dictionary or stopword file that cannot be read or parsed."""


@dataclass(frozen=True)
class DictionaryEntry:
    """One user-dictionary word: frequency and POS tag as written (``None`` when absent)."""

    word: str
    freq: int | None
    tag: str | None


def read_dictionary(path: str | Path) -> list[DictionaryEntry]:
    """Parse a jieba user-dictionary file that may hold ``#`` comments and blank lines.

    Each other line is ``word [freq] [pos]``.

    Parameters
    ----------
    path : str or Path
        The dictionary file (UTF-8, a byte-order mark allowed).

    Returns
    -------
    list of DictionaryEntry
        One entry per word line, in file order; ``freq`` and ``tag`` are ``None`` where the
        line leaves them out.

    Raises
    ------
    ResourceError
        If the file cannot be read or a line is not ``word [freq] [pos]`` (the message
        gives the line number).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "d.txt"
    >>> _ = path.write_text("# zone bodies\\n党工委 20 nt\\n招大引强\\n", encoding="utf-8")
    >>> read_dictionary(path)
    [DictionaryEntry(word='党工委', freq=20, tag='nt'), DictionaryEntry(word='招大引强', freq=None, tag=None)]
    """
    entries = []
    for number, line in _content_lines(path):
        match = _DICT_LINE_RE.match(line)
        if not match:
            raise ResourceError(f"{path}:{number}: expected 'word [freq] [pos]', got {line!r}")
        freq = int(match["freq"]) if match["freq"] else None
        entries.append(DictionaryEntry(match["word"], freq, match["tag"]))
    return entries


def read_stopwords(path: str | Path) -> set[str]:
    """Read a stopword file: one word a line, ``#`` comments and blank lines ignored.

    Parameters
    ----------
    path : str or Path
        The stopword file (UTF-8, a byte-order mark allowed).

    Returns
    -------
    set of str
        The words, each stripped of surrounding whitespace.

    Raises
    ------
    ResourceError
        If the file cannot be read.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "stop.txt"
    >>> _ = path.write_text("# speech fillers\\n同志们\\n\\n我们\\n", encoding="utf-8")
    >>> sorted(read_stopwords(path))
    ['同志们', '我们']
    """
    return {line for _, line in _content_lines(path)}


def _content_lines(path: str | Path) -> Iterable[tuple[int, str]]:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ResourceError(f"{path}: cannot read ({error})") from None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            yield number, line


def existing_files(paths: Iterable[str], setting: str) -> list[Path]:
    """``paths`` as ``Path`` objects, checking that each one is a file.

    Parameters
    ----------
    paths : iterable of str
        The files a setting names (``tokenize.dictionaries``, ``tokenize.stopword_files``).
    setting : str
        The setting's name, for the error message.

    Returns
    -------
    list of Path
        The paths, in the order given.

    Raises
    ------
    ResourceError
        If a path is not a file; the message names the setting and the path.

    Examples
    --------
    >>> existing_files([str(DEFAULT_DICTIONARY)], "tokenize.dictionaries") == [DEFAULT_DICTIONARY]
    True
    >>> existing_files(["no/such.txt"], "tokenize.dictionaries")
    Traceback (most recent call last):
    ...
    policytopics.token_resources.ResourceError: tokenize.dictionaries: file not found: no/such.txt
    """
    files = [Path(p) for p in paths]
    for path in files:
        if not path.is_file():
            raise ResourceError(f"{setting}: file not found: {path}")
    return files
