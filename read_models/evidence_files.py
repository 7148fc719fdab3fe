"""Which evidence files exist and who may download them: the uploads POST /files recorded
(`evidence_uploads`) and the files the events of each case cite (`case_files`, written by the
projection with the case)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from casestream.domain.catalog import EvidenceFile, EvidenceMediaType

from .evidence_store import StoredFile
from .queries import in_department
from .schema import case_files, evidence_uploads
from .sql import chunks, upsert


def case_file_rows(case_id: str, files: Sequence[EvidenceFile]) -> list[dict[str, Any]]:
    """The `case_files` rows of the files an event of `case_id` cites."""
    return [
        {
            "case_id": case_id,
            "sha256": file.sha256,
            "name": file.name,
            "media_type": file.media_type.value,
            "size": file.size,
        }
        for file in files
    ]


def _described(row: Any) -> EvidenceFile:
    return EvidenceFile(
        sha256=row.sha256,
        name=row.name,
        media_type=EvidenceMediaType(row.media_type),
        size=row.size,
    )


class EvidenceFiles:
    """The evidence files of the read-model database."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def record_upload(self, stored: StoredFile, *, name: str, uploader: str, at: datetime) -> None:
        """Record that `uploader` sent the file `stored` (kept whole already) as `name`."""
        row = {
            "sha256": stored.sha256,
            "uploaded_by": uploader,
            "name": name,
            "media_type": stored.media_type.value,
            "size": stored.size,
            "uploaded_at": at,
        }
        with self._engine.begin() as conn:
            upsert(conn, evidence_uploads, [row])

    def uploaded(self, digests: Sequence[str], uploader: str) -> dict[str, EvidenceFile]:
        """The uploaded files among `digests`, described as their uploader named them (the
        caller's own upload first, else the latest)."""
        found: dict[str, EvidenceFile] = {}
        with self._engine.connect() as conn:
            for part in chunks(sorted(set(digests))):
                rows = conn.execute(
                    sa.select(evidence_uploads)
                    .where(evidence_uploads.c.sha256.in_(part))
                    .order_by(
                        (evidence_uploads.c.uploaded_by == uploader).desc(),
                        evidence_uploads.c.uploaded_at.desc(),
                    )
                )
                for row in rows:
                    found.setdefault(row.sha256, _described(row))
        return found

    def of_case(self, case_id: str, *, visible_department: str | None = None) -> list[EvidenceFile]:
        """The files the events of `case_id` cite, by name; empty for a case outside
        `visible_department` (when given) or citing none."""
        scope = (
            []
            if visible_department is None
            else [in_department(case_files.c.case_id, visible_department)]
        )
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(case_files)
                .where(case_files.c.case_id == case_id, *scope)
                .order_by(case_files.c.name, case_files.c.sha256)
            )
            return [_described(row) for row in rows]

    def served(
        self, sha256: str, *, visible_department: str | None, caller: str
    ) -> EvidenceFile | None:
        """The file as a caller may download it: cited by a case they may see (scoped to
        `visible_department` when given), or uploaded by `caller` and cited by no case yet;
        None otherwise (a file only another department's cases cite, an unknown digest)."""
        with self._engine.connect() as conn:
            scope = (
                []
                if visible_department is None
                else [in_department(case_files.c.case_id, visible_department)]
            )
            cited = conn.execute(
                sa.select(case_files)
                .where(case_files.c.sha256 == sha256, *scope)
                .order_by(case_files.c.case_id)
                .limit(1)
            ).first()
            if cited is not None:
                return _described(cited)
            if conn.execute(
                sa.select(case_files.c.case_id).where(case_files.c.sha256 == sha256).limit(1)
            ).first():
                return None
            own = conn.execute(
                sa.select(evidence_uploads).where(
                    evidence_uploads.c.sha256 == sha256, evidence_uploads.c.uploaded_by == caller
                )
            ).first()
            return None if own is None else _described(own)
