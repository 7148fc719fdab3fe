"""Evidence files (证据材料): POST /files keeps a file under its SHA-256 digest (streamed to
disk as it arrives, typed by its content, capped by CASESTREAM_MAX_FILE_BYTES); commands and
events then cite it by digest. GET /files/{sha256} serves it to whoever may see a case whose
events cite it, or to its uploader while no case cites it yet."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from starlette.requests import ClientDisconnect

from casestream.domain.catalog import EvidenceMediaType
from casestream.read_models.evidence_store import FileTooLarge, UnsupportedFileType

from .auth import PrincipalDep, not_found, visible_department
from .deps import ServicesDep
from .evidence import evidence_records, evidence_store, keep_file
from .responses import NOT_FOUND
from .schemas import Refusal, UploadedFile

router = APIRouter(prefix="/files", tags=["files"])

DIGEST_PATTERN = r"^[0-9a-f]{64}$"
NAME_PATTERN = r"^[^\x00-\x1f\x7f/\\]+$"  # as catalog.FileName: no folders, no control characters
BINARY = {"schema": {"type": "string", "format": "binary"}}

FileNameQuery = Annotated[
    str,
    Query(
        min_length=1,
        max_length=255,
        pattern=NAME_PATTERN,
        description="the file's name, as it is shown and downloaded (its type is read from "
        "the content, never from this name)",
        examples=["整改报告.pdf"],
    ),
]
DigestPath = Annotated[
    str, Path(pattern=DIGEST_PATTERN, description="the file's SHA-256 digest, lower-case hex")
]


@router.post(
    "",
    status_code=201,
    response_model=UploadedFile,
    summary="Upload Evidence File",
    responses={
        400: {"description": "the upload was cut short; nothing was kept", "model": Refusal},
        413: {"description": "the file is larger than CASESTREAM_MAX_FILE_BYTES", "model": Refusal},
        415: {
            "description": "the content is of no evidence type (PDF, images, office "
            "documents); the answer names what it is",
            "model": Refusal,
        },
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "the file's bytes as they are (any Content-Type)",
            "content": {"application/octet-stream": BINARY},
        }
    },
)
async def upload_file(
    request: Request, name: FileNameQuery, services: ServicesDep, principal: PrincipalDep
) -> UploadedFile:
    """Keep one evidence file; cite it by the `sha256` answered (the same content sent again
    answers the same digest)."""
    try:
        kept = await keep_file(services, principal, name, request.stream())
    except FileTooLarge as exc:
        raise HTTPException(413, str(exc)) from exc
    except UnsupportedFileType as exc:
        raise HTTPException(415, str(exc)) from exc
    except ClientDisconnect as exc:
        raise HTTPException(400, "the upload was cut short; nothing was kept") from exc
    return UploadedFile(
        sha256=kept.sha256, name=kept.name, media_type=kept.media_type, size=kept.size
    )


@router.get(
    "/{sha256}",
    response_class=FileResponse,
    summary="Download Evidence File",
    responses={
        200: {
            "description": "the file, as an attachment under the name it was cited with",
            "content": {kind.value: BINARY for kind in EvidenceMediaType},
        },
        **NOT_FOUND,
    },
)
async def download_file(
    sha256: DigestPath, services: ServicesDep, principal: PrincipalDep
) -> FileResponse:
    """A file cited by a case the caller may see, or uploaded by the caller and cited by no
    case yet; 404 otherwise, as for an unknown digest."""
    store = evidence_store(services.settings)
    served = await run_in_threadpool(
        lambda: evidence_records(services).served(
            sha256, visible_department=visible_department(principal), caller=principal.subject
        )
    )
    if served is None or store.size_of(sha256) is None:
        raise not_found(f"file {sha256}")
    return FileResponse(
        store.path_of(sha256),
        media_type=served.media_type.value,
        filename=served.name,  # Content-Disposition: attachment, the name quoted or encoded
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
