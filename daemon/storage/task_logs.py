"""Task logs: each attempt's render log as its agent streams it, capped, and their retention.

A row is a piece of an attempt's log at its character offset in the agent's stream, so a resent
piece is recognised and the stream's length is the end of the last row. An attempt's log longer
than its cap keeps its first ``head_chars`` characters and its newest ones; the middle is
deleted, and reading shows a marker where it was. A task keeps the logs of its newest
``attempts`` attempts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils


@dataclass(frozen=True)
class LogCap:
    """How much of a task's logs is kept (the ``[logs]`` settings ``task_log_*``)."""

    max_chars: int
    """Characters kept of one attempt's log."""
    head_chars: int
    """Of those, the log's first characters; the rest are its newest."""
    attempts: int
    """Newest attempts of a task whose logs are kept."""


def dropped_marker(count: int) -> str:
    """What a reader sees where characters of the log are not kept: the middle of a long log,
    or a piece that never arrived."""
    return (
        f"\n[... {count} characters dropped here: the daemon keeps the start and the end of "
        "a long log (logs.task_log_max_chars), or they never arrived ...]\n"
    )


def append(
    db: sqlite_utils.Database, task_id: int, attempt: int, offset: int, text: str, cap: LogCap
) -> None:
    """Appends text at ``offset`` of the attempt's log; a resent piece is not written twice.

    Call in a transaction: past the cap, the middle of the log is dropped in the same one.
    """
    end = stream_end(db, task_id, attempt)
    if offset + len(text) <= end:
        return  # already have it
    if offset < end:  # after a gap the piece keeps its own offset: ``read`` marks the gap
        text = text[end - offset :]
        offset = end
    if end == 0:  # this attempt's first piece: the oldest attempts' logs give way
        db.execute(
            "DELETE FROM task_logs WHERE task_id = ? AND attempt <= ?",
            [task_id, attempt - cap.attempts],
        )
    db.execute(
        "INSERT INTO task_logs (task_id, attempt, offset, text) VALUES (?, ?, ?, ?)",
        [task_id, attempt, offset, text],
    )
    new_end = offset + len(text)
    if new_end > cap.max_chars:
        drop(db, task_id, attempt, cap.head_chars, new_end - (cap.max_chars - cap.head_chars))


def stream_end(db: sqlite_utils.Database, task_id: int, attempt: int) -> int:
    """Characters the agent has sent of the attempt's log (dropped ones count)."""
    row = db.conn.execute(
        "SELECT offset + length(text) FROM task_logs WHERE task_id = ? AND attempt = ?"
        " ORDER BY offset DESC LIMIT 1",
        [task_id, attempt],
    ).fetchone()
    return 0 if row is None else int(row[0])


def drop(db: sqlite_utils.Database, task_id: int, attempt: int, start: int, stop: int) -> None:
    """Deletes characters ``start`` to ``stop`` (excluded) of the attempt's log, keeping the
    parts of the pieces around them."""
    where = "task_id = ? AND attempt = ? AND offset < ? AND offset + length(text) > ?"
    args = [task_id, attempt, stop, start]
    pieces = db.conn.execute(f"SELECT offset, text FROM task_logs WHERE {where}", args)
    kept: list[tuple[int, int, int, str]] = []
    for offset, text in pieces.fetchall():
        if offset < start:
            kept.append((task_id, attempt, offset, text[: start - offset]))
        if offset + len(text) > stop:
            kept.append((task_id, attempt, stop, text[stop - offset :]))
    db.conn.execute(f"DELETE FROM task_logs WHERE {where}", args)
    db.conn.executemany(
        "INSERT INTO task_logs (task_id, attempt, offset, text) VALUES (?, ?, ?, ?)", kept
    )


def read(db: sqlite_utils.Database, task_id: int, attempt: int, offset: int) -> tuple[str, int]:
    """The attempt's log from character ``offset`` on, with a marker where characters were
    dropped, and the offset to read on from."""
    pieces: list[str] = []
    position = offset
    for start, text in db.conn.execute(
        "SELECT offset, text FROM task_logs WHERE task_id = ? AND attempt = ?"
        " AND offset + length(text) > ? ORDER BY offset",
        [task_id, attempt, offset],
    ):
        if start > position:
            pieces.append(dropped_marker(start - position))
            position = start
        pieces.append(text[position - start :])
        position = start + len(text)
    return "".join(pieces), position


def expired_tasks(db: sqlite_utils.Database, finished_before: float, limit: int) -> list[int]:
    """Up to ``limit`` tasks that have log kept and whose job finished before
    ``finished_before`` (read from the logs kept, so the cost follows what is stored)."""
    return [
        row[0]
        for row in db.conn.execute(
            "SELECT t.id FROM (SELECT DISTINCT task_id FROM task_logs) AS l"
            " JOIN tasks t ON t.id = l.task_id JOIN jobs j ON j.id = t.job_id"
            " WHERE j.finished_at < ? LIMIT ?",
            [finished_before, limit],
        )
    ]


def delete_logs(db: sqlite_utils.Database, task_ids: Sequence[int]) -> int:
    """Deletes every attempt's log of these tasks; returns the pieces deleted."""
    if not task_ids:
        return 0
    marks = ", ".join("?" * len(task_ids))
    cursor = db.execute(f"DELETE FROM task_logs WHERE task_id IN ({marks})", list(task_ids))
    return cursor.rowcount
