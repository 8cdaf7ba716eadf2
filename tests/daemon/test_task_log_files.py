"""Task logs as files: appends, resends, gaps, the cap, attempts kept, torn tails, and
appends from several threads and processes."""

from __future__ import annotations

import errno
import multiprocessing
import os
import threading
from pathlib import Path

import pytest

from common.errors import InvalidInput
from daemon.storage import log_records
from daemon.storage.task_logs import LogCap, TaskLogFiles, dropped_marker

CAP = LogCap(max_chars=1000, head_chars=200, attempts=2)
JOB, TASK = 7, 41


@pytest.fixture
def logs(tmp_path: Path) -> TaskLogFiles:
    return TaskLogFiles(tmp_path / "task-logs", CAP)


def path(logs: TaskLogFiles, task: int = TASK, attempt: int = 1) -> Path:
    return logs.root / str(JOB) / f"{task}.{attempt}.log"


def stored(file: Path) -> list[log_records.Record]:
    fd = os.open(file, os.O_RDONLY)
    try:
        found, _ = log_records.scan(fd, log_records.FILE_HEADER_SIZE, os.fstat(fd).st_size,
                                    verify=True)  # fmt: skip
    finally:
        os.close(fd)
    return found


def send(logs: TaskLogFiles, text: str, piece: int, task: int = TASK, attempt: int = 1) -> None:
    """Sends ``text`` as an agent does: pieces of ``piece`` characters at their offsets."""
    for start in range(0, len(text), piece):
        logs.append(JOB, task, attempt, start, text[start : start + piece])


def capped(text: str, cap: LogCap = CAP) -> str:
    """What a reader should see of ``text`` under ``cap``."""
    if len(text) <= cap.max_chars:
        return text
    tail = cap.max_chars - cap.head_chars
    return text[: cap.head_chars] + dropped_marker(len(text) - cap.max_chars) + text[-tail:]


def test_pieces_are_read_back_whole_and_from_any_offset(logs: TaskLogFiles) -> None:
    text = "".join(f"Fra:{i} Mem:12M | Rendering {i}/100\n" for i in range(20))
    send(logs, text, 37)
    assert logs.read(JOB, TASK, 1, 0) == (text, len(text))
    assert logs.read(JOB, TASK, 1, 100) == (text[100:], len(text))
    assert logs.read(JOB, TASK, 1, len(text)) == ("", len(text))
    assert logs.read(JOB, TASK, 1, len(text) + 5) == ("", len(text) + 5)
    assert logs.stream_end(JOB, TASK, 1) == len(text)
    assert logs.read(JOB, TASK, 2, 0) == ("", 0)  # an attempt that never logged


def test_offsets_count_characters_whatever_their_bytes(logs: TaskLogFiles) -> None:
    text = "été 😀 naïve \ud800 ok\n" * 3  # a lone surrogate, as JSON may carry
    send(logs, text, 5)
    assert logs.read(JOB, TASK, 1, 0) == (text, len(text))
    assert logs.read(JOB, TASK, 1, 6) == (text[6:], len(text))


def test_a_resent_piece_is_not_written_twice_and_an_overlap_only_adds_what_is_new(
    logs: TaskLogFiles,
) -> None:
    logs.append(JOB, TASK, 1, 0, "hello ")
    logs.append(JOB, TASK, 1, 6, "world\n")
    before = path(logs).read_bytes()
    logs.append(JOB, TASK, 1, 0, "hello ")  # an agent resending after a lost answer
    logs.append(JOB, TASK, 1, 6, "world\n")
    logs.append(JOB, TASK, 1, 3, "lo wor")
    assert path(logs).read_bytes() == before
    logs.append(JOB, TASK, 1, 6, "world\nagain\n")
    assert logs.read(JOB, TASK, 1, 0)[0] == "hello world\nagain\n"
    assert [r.chars for r in stored(path(logs))] == [6, 6, 6]


def test_a_gap_is_marked_and_the_piece_after_it_keeps_its_offset(logs: TaskLogFiles) -> None:
    logs.append(JOB, TASK, 1, 0, "a" * 10)
    logs.append(JOB, TASK, 1, 15, "b" * 10)
    assert logs.read(JOB, TASK, 1, 0) == ("a" * 10 + dropped_marker(5) + "b" * 10, 25)
    assert logs.read(JOB, TASK, 1, 12) == (dropped_marker(3) + "b" * 10, 25)
    assert logs.read(JOB, TASK, 1, 18) == ("b" * 7, 25)


@pytest.mark.parametrize("piece", [1, 7, 100, 333, 2500])
def test_a_long_log_keeps_its_head_and_its_newest_and_its_file_stays_bounded(
    logs: TaskLogFiles, piece: int
) -> None:
    text = "".join(f"{i:05d} line of the render\n" for i in range(300))  # 7,500 characters
    for start in range(0, len(text), piece):
        logs.append(JOB, TASK, 1, start, text[start : start + piece])
        if (start // piece) % 50 == 0:
            found = stored(path(logs))
            assert sum(r.chars for r in found) <= CAP.max_chars + CAP.margin + piece
            assert len(found) <= 512 + 1
    assert logs.read(JOB, TASK, 1, 0) == (capped(text), len(text))
    assert logs.read(JOB, TASK, 1, 7000) == (text[7000:], len(text))
    inside = logs.read(JOB, TASK, 1, 1000)
    assert inside == (dropped_marker(len(text) - 800 - 1000) + text[-800:], len(text))


def test_reading_a_log_past_its_cap_shows_the_same_before_and_after_its_file_is_rewritten(
    logs: TaskLogFiles,
) -> None:
    text = "x" * 1100  # past the cap, under the cap and margin: not rewritten yet
    send(logs, text, 100)
    assert sum(r.chars for r in stored(path(logs))) == 1100
    assert logs.read(JOB, TASK, 1, 0) == (capped(text), 1100)
    text += "y" * 400  # past cap and margin: rewritten
    logs.append(JOB, TASK, 1, 1100, "y" * 400)
    assert sum(r.chars for r in stored(path(logs))) == CAP.max_chars
    assert logs.read(JOB, TASK, 1, 0) == (capped(text), 1500)


def test_a_task_keeps_the_logs_of_its_newest_attempts(logs: TaskLogFiles) -> None:
    logs.append(JOB, TASK, 1, 0, "first")
    logs.append(JOB, TASK + 1, 1, 0, "another task")
    logs.append(JOB, TASK, 3, 0, "third")  # attempt 2 never logged: 1 goes all the same
    assert logs.read(JOB, TASK, 1, 0) == ("", 0)
    logs.append(JOB, TASK, 4, 0, "fourth")
    assert [logs.read(JOB, TASK, a, 0)[0] for a in (1, 2, 3, 4)] == ["", "", "third", "fourth"]
    assert logs.read(JOB, TASK + 1, 1, 0)[0] == "another task"


def test_a_torn_tail_is_not_served_and_is_cut_by_the_next_append(logs: TaskLogFiles) -> None:
    logs.append(JOB, TASK, 1, 0, "whole line\n")
    whole = path(logs).read_bytes()
    record, _ = log_records.encode(11, "half written\n", len(whole))
    with path(logs).open("ab") as file:  # the daemon was killed in the middle of a write
        file.write(record[:30])
    assert logs.read(JOB, TASK, 1, 0) == ("whole line\n", 11)

    logs.append(JOB, TASK, 1, 11, "half written\n")  # the agent resends what it had no answer to
    assert logs.read(JOB, TASK, 1, 0) == ("whole line\nhalf written\n", 24)
    assert path(logs).read_bytes() == whole + record


def test_a_record_whose_text_never_reached_the_disk_is_cut(logs: TaskLogFiles) -> None:
    logs.append(JOB, TASK, 1, 0, "one\n")
    size = path(logs).stat().st_size
    logs.append(JOB, TASK, 1, 4, "two\n")
    raw = bytearray(path(logs).read_bytes())
    raw[-4:] = b"\0\0\0\0"  # a power cut: the length was written, the text was not
    path(logs).write_bytes(bytes(raw))
    other = TaskLogFiles(logs.root, CAP)  # a restarted daemon
    assert other.read(JOB, TASK, 1, 0) == ("one\n", 4)
    other.append(JOB, TASK, 1, 4, "two\n")
    assert other.read(JOB, TASK, 1, 0) == ("one\ntwo\n", 8)
    assert path(logs).stat().st_size == size + log_records.HEADER_SIZE + 4


def test_a_file_cut_inside_its_header_starts_again(logs: TaskLogFiles) -> None:
    path(logs).parent.mkdir(parents=True)
    path(logs).write_bytes(log_records.file_header()[:10])
    assert logs.read(JOB, TASK, 1, 0) == ("", 0)
    logs.append(JOB, TASK, 1, 0, "again\n")
    assert logs.read(JOB, TASK, 1, 0) == ("again\n", 6)


def test_a_full_disk_leaves_the_file_as_it_was(
    logs: TaskLogFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs.append(JOB, TASK, 1, 0, "kept\n")
    before = path(logs).read_bytes()

    def half_then_full(fd: int, data: bytes) -> None:
        os.write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(log_records, "write_all", half_then_full)
        with pytest.raises(OSError) as raised:
            logs.append(JOB, TASK, 1, 5, "lost\n")
    assert raised.value.errno == errno.ENOSPC
    assert path(logs).read_bytes() == before
    logs.append(JOB, TASK, 1, 5, "sent again\n")
    assert logs.read(JOB, TASK, 1, 0) == ("kept\nsent again\n", 16)


def test_ids_and_offsets_that_no_file_name_may_hold_are_refused(logs: TaskLogFiles) -> None:
    for bad in ((-1, TASK, 1, 0), (JOB, True, 1, 0), (JOB, TASK, -2, 0), (JOB, TASK, 1, -1)):
        with pytest.raises(InvalidInput):
            logs.append(*bad, "text")
    with pytest.raises(InvalidInput):
        logs.read(JOB, TASK, 1, -5)
    assert not logs.root.exists()


def test_threads_append_to_different_tasks_and_race_on_one(logs: TaskLogFiles) -> None:
    texts = {task: "".join(f"task {task} line {i}\n" for i in range(150)) for task in range(8)}
    shared = "".join(f"shared line {i}\n" for i in range(60))  # 900 characters, under the cap
    barrier = threading.Barrier(8)

    def agent(task: int) -> None:
        barrier.wait()
        send(logs, texts[task], 13, task=task)
        send(logs, shared, 11, task=99)  # every thread resends the same pieces of task 99

    threads = [threading.Thread(target=agent, args=(task,)) for task in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for task, text in texts.items():
        assert logs.read(JOB, task, 1, 0) == (capped(text), len(text))
    assert logs.read(JOB, 99, 1, 0) == (shared, len(shared))
    assert sum(r.chars for r in stored(path(logs, 99))) == len(shared)


def test_two_daemons_on_one_folder_append_to_one_log(tmp_path: Path) -> None:
    """Each keeps its own index; one rewrites the file while the other has it indexed."""
    root = tmp_path / "task-logs"
    first, second = TaskLogFiles(root, CAP), TaskLogFiles(root, CAP)
    text = "".join(f"line {i:04d}\n" for i in range(400))  # 4,000 characters: rewrites
    for start in range(0, len(text), 50):
        (first if (start // 50) % 3 else second).append(
            JOB, TASK, 1, start, text[start : start + 50]
        )
        if start % 200 == 0:  # resends through the other daemon change nothing
            (second if (start // 50) % 3 else first).append(
                JOB, TASK, 1, start, text[start : start + 50]
            )
    assert first.read(JOB, TASK, 1, 0) == second.read(JOB, TASK, 1, 0) == (capped(text), len(text))


def _process_appends(root: str, start: multiprocessing.synchronize.Event) -> None:
    logs = TaskLogFiles(Path(root), CAP)
    start.wait()
    send(logs, PROCESS_TEXT, 20)


PROCESS_TEXT = "".join(f"process line {i:04d}\n" for i in range(600))


def test_processes_appending_the_same_pieces_write_each_once(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    start = context.Event()
    workers = [context.Process(target=_process_appends, args=(str(tmp_path), start))
               for _ in range(4)]  # fmt: skip
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    logs = TaskLogFiles(tmp_path, CAP)
    assert logs.read(JOB, TASK, 1, 0) == (capped(PROCESS_TEXT), len(PROCESS_TEXT))
    assert sum(r.chars for r in stored(tmp_path / str(JOB) / f"{TASK}.1.log")) <= 1400


def test_a_job_s_logs_are_listed_read_in_order_and_deleted(logs: TaskLogFiles) -> None:
    logs.append(JOB, 5, 2, 0, "five again\n")
    logs.append(JOB, 5, 1, 0, "five\n")
    logs.append(JOB, 3, 1, 0, "three\n")
    logs.append(JOB + 1, 1, 1, 0, "other job\n")
    (logs.root / str(JOB) / ".5.1.log.new").write_text("a rewrite a crash left")
    spans = [(s.task_id, s.attempt, s.offset, s.text) for s in logs.spans(JOB)]
    assert spans == [(3, 1, 0, "three\n"), (5, 1, 0, "five\n"), (5, 2, 0, "five again\n")]
    assert [s.text for s in logs.spans(JOB, 3)] == ["three\n"]
    assert logs.job_ids() == [JOB, JOB + 1]
    assert logs.delete_job(JOB) == 2
    assert logs.job_ids() == [JOB + 1] and list(logs.spans(JOB)) == []


def test_a_piece_longer_than_a_record_holds_is_stored_as_several(tmp_path: Path) -> None:
    logs = TaskLogFiles(tmp_path, LogCap(5_000_000, 1_000_000, 3))
    text = "".join(f"{i:07d}\n" for i in range(312_500))  # 2,500,000 characters
    logs.append(JOB, TASK, 1, 10, text)
    found = stored(tmp_path / str(JOB) / f"{TASK}.1.log")
    assert [(r.offset, r.chars) for r in found] == [(10, 1_000_000), (1_000_010, 1_000_000),
                                                    (2_000_010, 500_000)]  # fmt: skip
    assert logs.read(JOB, TASK, 1, 10) == (text, 2_500_010)
