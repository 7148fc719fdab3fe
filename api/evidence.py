"""Evidence files at the API's edge: the store and the records a request uses, and the check
that every file a command or an event cites was completely uploaded first (422 naming the
field otherwise), shared by the routes that take files and by POST /events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

from fastapi.concurrency import run_in_threadpool

from casestream.domain.catalog import EvidenceFile, Payload, cited_files
from casestream.read_models.evidence_files import EvidenceFiles
from casestream.read_models.evidence_store import FileStore
from casestream.settings import Settings

from .auth import Principal
from .deps import Services
from .problems import unprocessable

NOT_UPLOADED = "no file with this digest was completely uploaded: send it to POST /files first"


def evidence_store(settings: Settings) -> FileStore:
    return FileStore(settings.evidence_dir, settings.max_file_bytes)


def evidence_records(services: Services) -> EvidenceFiles:
    return EvidenceFiles(services.queries.engine)


async def keep_file(
    services: Services, principal: Principal, name: str, chunks: AsyncIterator[bytes]
) -> EvidenceFile:
    """Keep one evidence file sent by `principal` under its digest and record the upload (the
    one way a file comes in, through POST /files or a console form); FileTooLarge past
    CASESTREAM_MAX_FILE_BYTES, UnsupportedFileType for content of no evidence type."""
    store = evidence_store(services.settings)
    with store.receive() as upload:
        async for chunk in chunks:
            upload.write(chunk)  # a buffered write to local disk: synced once, in finish
        stored = await run_in_threadpool(upload.finish)
    await run_in_threadpool(
        lambda: evidence_records(services).record_upload(
            stored, name=name, uploader=principal.subject, at=datetime.now(UTC)
        )
    )
    return EvidenceFile(
        sha256=stored.sha256, name=name, media_type=stored.media_type, size=stored.size
    )


async def uploaded_files(
    services: Services, principal: Principal, digests: Sequence[str], *, field: str = "files"
) -> list[EvidenceFile]:
    """The files `digests` name, as they were uploaded (the caller's own name for a file
    first); 422 naming `field.<i>` of each digest not completely uploaded."""
    store = evidence_store(services.settings)

    def described() -> dict[str, EvidenceFile]:
        known = evidence_records(services).uploaded(digests, principal.subject)
        return {
            digest: file
            for digest, file in known.items()
            if store.size_of(digest) == file.size  # the content is there, whole
        }

    known = await run_in_threadpool(described) if digests else {}
    missing = [(f"{field}.{i}", NOT_UPLOADED) for i, d in enumerate(digests) if d not in known]
    if missing:
        raise unprocessable("body", missing)
    return [known[digest] for digest in digests]


async def refuse_unuploaded(services: Services, principal: Principal, payload: Payload) -> None:
    """422 naming `payload.files.<i>` of each file `payload` cites that was not completely
    uploaded, or whose type or size differs from the upload's (an event posted raw names
    the files itself)."""
    cited = cited_files(payload)
    if not cited:
        return
    known = {
        file.sha256: file
        for file in await uploaded_files(
            services, principal, [file.sha256 for file in cited], field="payload.files"
        )
    }
    wrong = [
        (
            f"payload.files.{i}",
            f"the file uploaded under this digest is {known[file.sha256].media_type.value} of "
            f"{known[file.sha256].size} bytes",
        )
        for i, file in enumerate(cited)
        if (file.media_type, file.size) != (known[file.sha256].media_type, known[file.sha256].size)
    ]
    if wrong:
        raise unprocessable("body", wrong)
