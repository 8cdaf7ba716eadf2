"""``cloudburst install-service daemon|agent``: runs Cloudburst as a systemd service.

Writes the unit (``common.cli.service_units``) to ``/etc/systemd/system`` and the service's
settings to ``/etc/cloudburst/<role>.env`` (root only: it may hold an enrollment token), creates
the service's user and its data folder, and says how to start it. ``--print`` shows the files
and changes nothing; ``--root`` writes into an image's folder tree instead.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

import click

from common.cli.context import state_of
from common.cli.service_units import UNIT_DIR, ServicePlan, env_text, unit_text, word_problem
from common.daemon_address import daemon_url
from common.errors import InvalidInput, UserFacingError
from common.path_forms import path_problem
from common.private_files import write_private

#: Options that belong to one role only.
_ROLE_OPTIONS = {
    "bind": "daemon", "daemon_url": "agent", "enrollment_token": "agent", "name": "agent",
}  # fmt: skip
#: A system user's name, as Debian's useradd takes it.
_USER_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
#: Settings values shown as this in ``--print`` (they are secrets).
_HIDDEN = "<given, not shown>"


def cloudburst_command() -> tuple[str, ...]:
    """This installation's ``cloudburst``: the script beside this Python, else Python itself
    running the CLI's module (both absolute, as a unit needs)."""
    script = Path(sys.executable).parent / "cloudburst"
    if script.is_file() and os.access(script, os.X_OK):
        return (str(script),)
    return (str(Path(sys.executable).absolute()), "-m", "common.cli")


@click.command("install-service")
@click.argument("role", type=click.Choice(["daemon", "agent"]))
@click.option(
    "--print",
    "print_only",
    is_flag=True,
    help="Print the unit and the settings file; write and create nothing.",
)
@click.option(
    "--user",
    default="cloudburst",
    show_default=True,
    help="The user the service runs as (created with its group when missing).",
)
@click.option(
    "--data-dir",
    default="/var/lib/cloudburst",
    show_default=True,
    metavar="DIR",
    help="The service's data folder; it may write only there and in the output roots.",
)
@click.option(
    "--bind",
    metavar="HOST:PORT",
    help="Daemon: where it listens; 0.0.0.0:8642 serves the LAN (default: the "
    "bind setting, 127.0.0.1:8642).",
)
@click.option(
    "--daemon-url", metavar="URL", help="Agent: the daemon (default: the daemon_url setting)."
)
@click.option(
    "--enrollment-token",
    metavar="TOKEN",
    help="Agent: the one-time token from `cloudburst agent enroll`.",
)
@click.option("--name", help="Agent: its name (default: the host name).")
@click.option(
    "--output-root",
    "output_roots",
    multiple=True,
    metavar="DIR",
    help="A folder frames go to, which the service may write (repeatable; default: "
    "the [paths] output_roots setting). The daemon writes there the frames it "
    "brings home from the cloud.",
)
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default="/",
    show_default=True,
    help="Write into this folder tree (an image being built); no user is created.",
)
@click.pass_context
def install_service_command(
    ctx: click.Context, role: str, print_only: bool, user: str, data_dir: str, root: Path,
    **options: str | tuple[str, ...] | None,
) -> None:  # fmt: skip
    """Install the daemon or an agent as a systemd service, sandboxed, as its own user.

    Writes /etc/systemd/system/cloudburst-ROLE.service and its settings,
    /etc/cloudburst/ROLE.env (root only), creates the user and the data folder. Then:
    systemctl daemon-reload && systemctl enable --now cloudburst-ROLE.
    """
    plan, settings = _plan(ctx, role, user, data_dir, options)
    unit, env = unit_text(plan), env_text(plan, settings)
    if print_only:
        shown = {k: _HIDDEN if k == "enrollment_token" else v for k, v in settings.items()}
        click.echo(f"# {UNIT_DIR / plan.unit_name}\n{unit}\n# {plan.env_file}")
        click.echo(env_text(plan, shown), nl=False)
        return
    image = root.resolve() != Path("/")
    if not image:
        if os.geteuid() != 0:
            raise UserFacingError(
                f"Installing a service takes root. Run: sudo {' '.join(cloudburst_command())} "
                f"install-service {role} ... (or add --print to see the files, or --root DIR "
                "to write them into an image)."
            )
        _ensure_user(user, plan.data_dir)
    _data_folder(_under(root, plan.data_dir), None if image else user)
    env_path = _under(root, plan.env_file)
    write_private(env_path, _merged(env_path, env, settings), private_folder=False)
    unit_path = _under(root, UNIT_DIR / plan.unit_name)
    unit_path.parent.mkdir(parents=True, exist_ok=True)
    unit_path.write_text(unit, encoding="utf-8")
    unit_path.chmod(0o644)
    click.echo(f"Wrote {unit_path} and {env_path}.")
    if image:
        click.echo(f"Create the user {user!r} in the image; the service runs as it.")
    click.echo(f"Start it: systemctl daemon-reload && systemctl enable --now {plan.unit_name}")


def _plan(
    ctx: click.Context, role: str, user: str, data_dir: str,
    options: Mapping[str, str | tuple[str, ...] | None],
) -> tuple[ServicePlan, dict[str, str]]:  # fmt: skip
    """The unit's plan and the settings for its environment file, every value checked.

    Raises:
        InvalidInput: an option of the other role, or a value a unit cannot hold.
    """
    for key, value in options.items():
        if value and _ROLE_OPTIONS.get(key, role) != role:
            option = "--" + key.replace("_", "-")
            raise InvalidInput(
                f"{option} is for `install-service {_ROLE_OPTIONS[key]}`, not {role}."
            )
    if not _USER_NAME.match(user):
        raise InvalidInput(
            f"--user {user!r} is not a user name. Use lowercase letters, digits, _ and -, "
            "starting with a letter or _ (at most 32)."
        )
    _check_folder(data_dir, "--data-dir")
    known = state_of(ctx).settings()
    settings: dict[str, str] = {}
    if role == "daemon" and options.get("bind"):
        settings["bind"] = _check_word(str(options["bind"]), "--bind")
    if role == "agent":
        try:
            url = daemon_url(str(options.get("daemon_url") or known.daemon_url))
        except ValueError as exc:
            raise InvalidInput(f"--daemon-url: {exc}.") from None
        settings["daemon_url"] = _check_word(url, "--daemon-url")
        for key, setting in (("name", "agent_name"), ("enrollment_token", "enrollment_token")):
            if options.get(key):
                option = "--" + key.replace("_", "-")
                settings[setting] = _check_word(str(options[key]), option)
    roots = list(options.get("output_roots") or ()) or list(known.paths.output_roots)
    for folder in roots:
        _check_folder(folder, "--output-root")
    backup = known.backup.destination
    if role == "daemon" and backup and "://" not in backup:
        _check_folder(backup, "the [backup] destination")
        roots.append(backup)
    plan = ServicePlan(
        role="daemon" if role == "daemon" else "agent", command=cloudburst_command(),
        user=user, data_dir=PurePosixPath(data_dir), write_paths=tuple(roots),
        writes_frames=role == "agent" or known.store is not None,
    )  # fmt: skip
    if not plan.strict:
        click.secho(
            f"Note: no output roots are known, so the {role} may write anywhere but /usr, /boot "
            "and /etc. Give --output-root for each folder frames go to, to allow only those.",
            err=True, fg="yellow",
        )  # fmt: skip
    return plan, settings


def _check_word(value: str, option: str) -> str:
    problem = word_problem(value)
    if problem is not None:
        raise InvalidInput(f"{option} {value!r} {problem}. Give it without such characters.")
    return value


def _check_folder(folder: str, option: str) -> None:
    _check_word(folder, option)
    problem = None if folder.startswith("/") else "is not absolute"
    problem = problem or path_problem(folder, folder=True)
    if problem is not None:
        raise InvalidInput(f"{option} {folder!r} {problem}.")


def _under(root: Path, path: PurePosixPath) -> Path:
    return root / str(path).lstrip("/")


def _ensure_user(user: str, home: PurePosixPath) -> None:
    """Creates ``user`` (a system user with its own group, no shell) when it is missing. Root.

    Raises:
        UserFacingError: no ``useradd``, or it failed.
    """
    try:
        pwd.getpwnam(user)
        return
    except KeyError:
        pass
    useradd = shutil.which("useradd")
    if useradd is None:
        raise UserFacingError(
            f"The user {user!r} does not exist and this system has no useradd to create it. "
            "Create it (a system user with its own group), or name an existing one with --user."
        )
    command = [useradd, "--system", "--user-group", "--home-dir", str(home), "--no-create-home",
               "--shell", "/usr/sbin/nologin", user]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise UserFacingError(f"useradd could not create {user!r}: {done.stderr.strip()}")


def _data_folder(path: Path, owner: str | None) -> None:
    """Makes the data folder (0750), owned by the service's user when ``owner`` is given."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o750)
    if owner is not None:
        shutil.chown(path, owner, pwd.getpwnam(owner).pw_gid)


def _merged(path: Path, fresh: str, settings: Mapping[str, str]) -> str:
    """The environment file: ``fresh``, then the lines IT added to the old one (kept)."""
    if not path.is_file():
        return fresh
    ours = {f"CLOUDBURST_{key.upper()}=" for key in settings}
    kept = [
        line for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#") and not line.startswith(tuple(ours))
    ]  # fmt: skip
    return fresh + "".join(f"{line}\n" for line in kept)
