"""The pre-flight of ``cloudburst submit``: the panel's checks, with facts from the scene file.

The CLI has no DCC to ask, so the scene's facts and files come from the offline reader that
``cloudburst scan`` uses (``common.cli.scan.scan``, through the scan cache); the checks are
the panel's own (``common.jobspec.preflight``), run on the options of the job as it will be
sent. Only some fixes are worded for the CLI: they name its options (``--allow-missing``,
``--format``, ``--env CLOUDBURST_RENDER_TARGET``) instead of the panel's boxes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import click

from common.cli.scan import default_cache_path, known_kinds, open_cache, scan
from common.errors import InvalidInput, PreflightFailed
from common.jobspec import CAMERA_ENV, TARGET_ENV, PanelSettings, Problem, Severity, preflight
from common.models import JobSpec
from common.scene_readers import SceneReport

#: Missing files named one per line before the rest are counted.
MISSING_NAMED = 20


@dataclass(frozen=True)
class Outcome:
    """What the pre-flight found: the problems, and the files the scene needs that are missing."""

    problems: tuple[Problem, ...]
    missing: tuple[str, ...] = ()

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.ERROR)


def read_report(scene: Path) -> SceneReport | None:
    """The offline reader's report of ``scene``; None when no reader knows its kind.

    Raises:
        PreflightFailed: the reader cannot read the file (says so, and how to submit anyway).
    """
    if scene.suffix.lower() not in known_kinds():
        return None
    cache = open_cache(default_cache_path())
    try:
        return scan(scene, cache)
    except (InvalidInput, ValueError) as exc:  # a reader refuses or chokes on a damaged file
        reason = exc.message if isinstance(exc, InvalidInput) else f"Cannot read {scene}: {exc}."
        raise PreflightFailed(
            f"The pre-flight cannot read the scene. {reason} Check that the file opens in its "
            "application, or pass --no-preflight to submit it unchecked."
        ) from exc
    finally:
        if cache is not None:
            cache.close()


def settings_of(spec: JobSpec) -> PanelSettings:
    """The panel settings that give the job ``spec`` describes (what the checks look at).

    The render target and camera travel in the job's environment, as the panel sends them
    (``--env CLOUDBURST_RENDER_TARGET=...``).
    """
    return PanelSettings(
        name=spec.name,
        project=spec.project,
        frames=spec.frames,
        chunk_size=spec.chunk_size,
        priority=spec.priority,
        placement=spec.placement,
        output=spec.output,
        output_format=spec.output_format,
        max_retries=spec.max_retries,
        timeout_s=spec.timeout_s,
        target=spec.env.get(TARGET_ENV, ""),
        camera=spec.env.get(CAMERA_ENV, ""),
    )


def check(report: SceneReport, spec: JobSpec, *, allow_missing: bool) -> Outcome:
    """The panel's pre-flight of ``spec`` against the scene facts and files of ``report``.

    Missing files are an error unless ``allow_missing`` ("submit anyway"), then a warning.
    """
    problems = preflight(
        report.info,
        settings_of(spec),
        report.dependencies,
        project_root=None,
        daemon_ok=None,  # the submission itself says when the daemon does not answer
    )
    # a sequence names its absent frames; any other dependency is its own path
    missing = tuple(p for asset in report.missing for p in asset.missing_files or (asset.path,))
    return Outcome(tuple(_for_the_cli(p, spec.scene, allow_missing) for p in problems), missing)


def _for_the_cli(problem: Problem, scene: str, allow_missing: bool) -> Problem:
    """The panel's problem with a fix said in the CLI's options instead of the panel's boxes."""
    if problem.code == "no_default_target":
        return dataclasses.replace(
            problem,
            fix=f"Name the render node with --env {TARGET_ENV}=NODE, or add a render node "
            "(Mantra, Karma, Redshift...) that writes files.",
        )
    if problem.code == "movie_output":
        return dataclasses.replace(
            problem,
            fix="Render an image sequence (an output such as shot.####.exr and --format "
            "OPEN_EXR or PNG) and make the movie from it after.",
        )
    if problem.code != "missing_files":
        return problem
    if allow_missing:
        return dataclasses.replace(
            problem,
            severity=Severity.WARNING,
            fix="Submitting anyway (--allow-missing): frames that read a missing file will be "
            "wrong.",
        )
    return dataclasses.replace(
        problem,
        fix=f"Put each missing file where the scene expects it (cloudburst scan {scene} shows "
        "where each is used), or pass --allow-missing to submit anyway.",
    )


def describe(problem: Problem) -> str:
    """One problem as the line the CLI prints: what is wrong, then how to fix it."""
    return f"{problem.severity.value.capitalize()}: {problem.message} {problem.fix}"


def show(outcome: Outcome) -> None:
    """Prints each problem (and the missing files, one per line) on stderr.

    Raises:
        PreflightFailed: an error was found; nothing is submitted.
    """
    for problem in outcome.problems:
        color = "red" if problem.severity is Severity.ERROR else "yellow"
        click.secho(describe(problem), err=True, fg=color)
    if outcome.missing:
        click.echo("Missing files:", err=True)
        for path in outcome.missing[:MISSING_NAMED]:
            click.echo(f"  {path}", err=True)
        if len(outcome.missing) > MISSING_NAMED:
            click.echo(f"  and {len(outcome.missing) - MISSING_NAMED} more", err=True)
    errors = len(outcome.errors)
    if errors:
        raise PreflightFailed(
            f"Nothing was submitted: the pre-flight found {errors} "
            f"{'error' if errors == 1 else 'errors'}. Fix {'it' if errors == 1 else 'them'} "
            "and submit again, or pass --no-preflight to skip the checks."
        )
