"""The compiled crisis screener, kept between starts so ``opstap run`` is ready in time.

Rules of this module:

* Building the screener from the lexicons takes most of a start (about 1.5 s of 2.5 on an idle
  2-core machine; ``docs/benchmarks.md``): reading the YAML, turning phrases into patterns, and
  above all ``re``'s parser and compiler, which are pure Python. The result depends only on the
  files of ``flows/safety`` (lexicons, word forms, code) and the Python version, so it is stored
  once and loaded at the next start in about 0.1 s.
* The file holds the screener pickled, each compiled pattern together with the SRE code ``re``
  made for it; loading hands that code to ``_sre.compile`` (C, which validates it) and skips
  the parser. ``re.Pattern`` equality compares flags, source and that code, and the tests check
  that every loaded pattern equals a freshly compiled one.
* The key is the Python version, the SRE magic number and a sha256 over every file of
  ``flows/safety`` and of this module. A missing, stale or unreadable file is never an error:
  the screener is built as before (the crisis screen always runs), and a good file is written
  for the next start (:func:`store`, after start-up, in a thread of its own).
* Only this process writes the file (owner-only, atomically: a temporary file, then a rename),
  in the folder of ``OPSTAP_CACHE_DIR``; a pickle runs code when loaded, so that folder must
  be as trusted as the code itself, like ``__pycache__``. Nothing personal is in it: the
  lexicons are shipped data.
"""

from __future__ import annotations

import _sre  # type: ignore[import-not-found]
import hashlib
import logging
import os
import pickle
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from re import Pattern
from re import _compiler as sre_compiler  # type: ignore[attr-defined]
from re import _parser as sre_parser  # type: ignore[attr-defined]
from typing import Any

import flows.safety
from bot.safety.lexicon import load_screener
from flows.safety.detect import Screener

log = logging.getLogger(__name__)
FILE_PREFIX = "screener-"


def fingerprint() -> str:
    """What the compiled screener depends on: the Python version, the SRE magic number and
    every file of ``flows/safety`` and of this module."""
    digest = hashlib.sha256()
    digest.update(f"{sys.version}|{_sre.MAGIC}|{sre_compiler.MAXCODE}".encode())
    root = Path(flows.safety.__file__).parent
    files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in [*files, Path(__file__)]:
        digest.update(path.relative_to(path.parents[1]).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


def cache_file(folder: Path) -> Path:
    return folder / f"{FILE_PREFIX}{fingerprint()}.pickle"


def _rebuild(
    source: str, flags: int, code: list[int], groups: int, groupindex: dict[str, int]
) -> Pattern[str]:
    """A pattern from the SRE code ``re`` made for it: what ``re._compiler.compile`` does
    after parsing."""
    indexgroup: list[str | None] = [None] * (groups + 1)
    for name, index in groupindex.items():
        indexgroup[index] = name
    pattern: Pattern[str] = _sre.compile(source, flags, code, groups, groupindex, tuple(indexgroup))
    return pattern


def _reduce(pattern: Pattern[str]) -> tuple[Callable[..., Pattern[str]], tuple[Any, ...]]:
    if not isinstance(pattern.pattern, str):
        return pattern.__reduce__()
    # The pattern's flags include its inline flags; parsing and compiling again with them
    # gives the code re made (re._compiler._code ORs them in as well).
    code = sre_compiler._code(sre_parser.parse(pattern.pattern, pattern.flags), pattern.flags)
    return _rebuild, (
        pattern.pattern,
        pattern.flags,
        # Plain ints: re's opcodes are int subclasses that refuse to be pickled.
        [int(word) for word in code],
        pattern.groups,
        dict(pattern.groupindex),
    )


def dumps(screener: Screener) -> bytes:
    """The screener with the SRE code of every pattern (slow: it parses them all again)."""
    import io

    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {Pattern: _reduce}
    pickler.dump(screener)
    return buffer.getvalue()


def load(folder: Path | None) -> tuple[Screener, bool]:
    """The screener, from the cache in ``folder`` when it holds a good one; else built from
    the lexicons. The flag says whether the cache should be written (:func:`store`)."""
    if folder is None:
        return load_screener(), False
    path = cache_file(folder)
    try:
        with path.open("rb") as handle:
            # Our own file in a folder as trusted as the code (module rules).
            screener = pickle.load(handle)  # noqa: S301
        if isinstance(screener, Screener):
            return screener, False
        log.warning("screener cache ignored: not a screener")
    except FileNotFoundError:
        pass
    except Exception as error:
        # A damaged or foreign file: build as before and write a good one.
        log.warning("screener cache ignored error=%s", type(error).__name__)
    return load_screener(), True


def store(screener: Screener, folder: Path) -> Path:
    """Write the cache for the next start; old caches of other versions are removed."""
    folder.mkdir(parents=True, exist_ok=True)
    path = cache_file(folder)
    data = dumps(screener)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".screener-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    for old in folder.glob(f"{FILE_PREFIX}*.pickle"):
        if old != path:
            old.unlink(missing_ok=True)
    log.info("screener cache written bytes=%d", len(data))
    return path
