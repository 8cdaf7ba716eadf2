"""Uploads and stored files (the storage API's rows; the bytes live under the storage root)."""

from __future__ import annotations

from typing import Any

import sqlite_utils


def insert_upload(db: sqlite_utils.Database, row: dict[str, Any]) -> None:
    db.execute(
        "INSERT INTO uploads (id, path, size, received, algorithm, owner, created_at, updated_at)"
        " VALUES (:id, :path, :size, 0, :algorithm, :owner, :created_at, :created_at)",
        row,
    )


def get_upload(db: sqlite_utils.Database, upload_id: str) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM uploads WHERE id = ?", [upload_id]))
    return rows[0] if rows else None


def set_received(
    db: sqlite_utils.Database, upload_id: str, was: int, received: int, now: float
) -> bool:
    """Compare-and-set of the bytes received; False when another request moved it first."""
    cursor = db.execute(
        "UPDATE uploads SET received = ?, updated_at = ? WHERE id = ? AND received = ?",
        [received, now, upload_id, was],
    )
    return cursor.rowcount == 1


def delete_upload(db: sqlite_utils.Database, upload_id: str) -> None:
    db.execute("DELETE FROM uploads WHERE id = ?", [upload_id])


def stale_uploads(db: sqlite_utils.Database, before: float) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM uploads WHERE updated_at < ?", [before]))


def path_taken(db: sqlite_utils.Database, path: str) -> bool:
    """Whether a live file or an unfinished upload holds ``path``."""
    rows = db.query(
        "SELECT 1 FROM stored_files WHERE path = ? AND deleted_at IS NULL"
        " UNION ALL SELECT 1 FROM uploads WHERE path = ? LIMIT 1",
        [path, path],
    )
    return any(True for _ in rows)


def bytes_of_owner(db: sqlite_utils.Database, owner: str) -> int:
    """Bytes the owner's files take: stored ones (deleted ones too, until purged) and the
    declared sizes of their unfinished uploads."""
    row = db.conn.execute(
        "SELECT (SELECT coalesce(sum(size), 0) FROM stored_files WHERE owner = ?)"
        " + (SELECT coalesce(sum(size), 0) FROM uploads WHERE owner = ?)",
        [owner, owner],
    ).fetchone()
    return int(row[0])


def bytes_under(db: sqlite_utils.Database, folder: str) -> int:
    """Bytes the files under ``folder`` (a top folder such as ``show``) take, counted as
    ``bytes_of_owner`` counts them."""
    prefix = folder + "/"
    row = db.conn.execute(
        "SELECT (SELECT coalesce(sum(size), 0) FROM stored_files WHERE substr(path, 1, ?) = ?)"
        " + (SELECT coalesce(sum(size), 0) FROM uploads WHERE substr(path, 1, ?) = ?)",
        [len(prefix), prefix, len(prefix), prefix],
    ).fetchone()
    return int(row[0])


def insert_file(db: sqlite_utils.Database, row: dict[str, Any]) -> None:
    db.execute(
        "INSERT INTO stored_files (id, path, size, algorithm, checksum, owner, created_at)"
        " VALUES (:id, :path, :size, :algorithm, :checksum, :owner, :created_at)",
        row,
    )


def get_file(db: sqlite_utils.Database, file_id: str) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM stored_files WHERE id = ?", [file_id]))
    return rows[0] if rows else None


def mark_deleted(db: sqlite_utils.Database, file_id: str, now: float) -> bool:
    cursor = db.execute(
        "UPDATE stored_files SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL",
        [now, file_id],
    )
    return cursor.rowcount == 1


def mark_restored(db: sqlite_utils.Database, file_id: str, deleted_at: float) -> bool:
    cursor = db.execute(
        "UPDATE stored_files SET deleted_at = NULL WHERE id = ? AND deleted_at = ?",
        [file_id, deleted_at],
    )
    return cursor.rowcount == 1


def deleted_before(db: sqlite_utils.Database, before: float) -> list[dict[str, Any]]:
    return list(
        db.query(
            "SELECT * FROM stored_files WHERE deleted_at IS NOT NULL AND deleted_at < ?",
            [before],
        )
    )


def delete_file_row(db: sqlite_utils.Database, file_id: str) -> None:
    db.execute("DELETE FROM stored_files WHERE id = ?", [file_id])
