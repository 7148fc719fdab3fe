"""The evidence file store (证据材料): each file kept once under its SHA-256 digest,
`<dir>/<aa>/<sha256>`. An upload is streamed into a temporary file beside them, hashed as it
comes, synced, and only then linked under its digest, so a digest never names a partial file:
an upload cut short leaves nothing behind. Types are read from the content, never the name."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

import filetype

from casestream.domain.catalog import EvidenceMediaType

HEAD_BYTES = 8192  # what type detection reads (filetype's own window)
INCOMING_PREFIX = ".incoming-"
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


class FileTooLarge(Exception):
    """The upload is larger than the store takes."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"the file is larger than {max_bytes} bytes (CASESTREAM_MAX_FILE_BYTES)")
        self.max_bytes = max_bytes


class UnsupportedFileType(Exception):
    """The content is of no evidence type; `found` says what it is."""

    def __init__(self, found: str) -> None:
        kinds = ", ".join(kind.name for kind in EvidenceMediaType)
        super().__init__(
            f"the content is {found}, not an evidence file; send one of: {kinds} "
            "(the type is read from the content, not from the name)"
        )
        self.found = found


@dataclass(frozen=True)
class StoredFile:
    """A file kept whole under its digest."""

    sha256: str
    media_type: EvidenceMediaType
    size: int


def detect_media_type(head: bytes) -> EvidenceMediaType:
    """The evidence type of a file from its first bytes; UnsupportedFileType naming what was
    found otherwise (office documents are told apart by their zip or OLE container)."""
    if not head:
        raise UnsupportedFileType("empty")
    kind = filetype.guess(head)
    found = str(kind.mime) if kind is not None else "of no known type"
    try:
        return EvidenceMediaType(found)
    except ValueError:
        raise UnsupportedFileType(found) from None


class FileStore:
    """The files under `directory`; an upload takes at most `max_bytes`."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes

    def path_of(self, sha256: str) -> Path:
        if not _DIGEST.match(sha256):
            raise ValueError(f"{sha256[:80]!r} is not a SHA-256 digest in lower-case hex")
        return self.directory / sha256[:2] / sha256

    def size_of(self, sha256: str) -> int | None:
        """The size of the complete file under `sha256`, or None when there is none."""
        try:
            return self.path_of(sha256).stat().st_size
        except (OSError, ValueError):
            return None

    def receive(self) -> Upload:
        """A new upload: `with store.receive() as upload: upload.write(...); upload.finish()`."""
        return Upload(self)


class Upload:
    """One file being received. Leaving the `with` block without `finish()` (an error, a client
    gone, a refusal) removes the temporary file: nothing is kept under any digest."""

    def __init__(self, store: FileStore) -> None:
        self._store = store
        self._hash = hashlib.sha256()
        self._head = bytearray()
        self._size = 0
        self._file: IO[bytes] | None = None
        self._path: Path | None = None

    def __enter__(self) -> Upload:
        self._store.directory.mkdir(parents=True, exist_ok=True)
        self._file = tempfile.NamedTemporaryFile(  # closed in finish or __exit__
            dir=self._store.directory, prefix=INCOMING_PREFIX, delete=False
        )
        self._path = Path(self._file.name)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._discard()

    def write(self, chunk: bytes) -> None:
        """Take the next bytes; FileTooLarge past the store's cap."""
        assert self._file is not None, "an upload is written inside its `with` block"
        self._size += len(chunk)
        if self._size > self._store.max_bytes:
            raise FileTooLarge(self._store.max_bytes)
        if len(self._head) < HEAD_BYTES:
            self._head += chunk[: HEAD_BYTES - len(self._head)]
        self._hash.update(chunk)
        self._file.write(chunk)

    def finish(self) -> StoredFile:
        """Check the type (UnsupportedFileType), sync the content to disk and keep it under its
        digest; a digest already kept is left as it is (the same content)."""
        assert self._file is not None and self._path is not None
        media_type = detect_media_type(bytes(self._head))
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        digest = self._hash.hexdigest()
        target = self._store.path_of(digest)
        try:
            target.parent.mkdir()
        except FileExistsError:
            pass
        else:
            _sync_directory(self._store.directory)
        try:
            os.link(self._path, target)  # atomic, and never replaces a file already there
        except FileExistsError:
            pass
        else:
            _sync_directory(target.parent)
        self._discard()
        return StoredFile(digest, media_type, self._size)

    def _discard(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._path is not None:
            self._path.unlink(missing_ok=True)
            self._path = None


def _sync_directory(directory: Path) -> None:
    """Make a new entry of `directory` durable (a crash after the answer keeps the file)."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
