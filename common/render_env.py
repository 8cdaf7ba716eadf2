"""What a job's ``env`` may hold: limits for everyone, and variables only TDs and admins set.

A job's variables are added to the render node's environment for its renderer. For everyone:

* at most ``MAX_VARIABLES`` variables, names of at most ``MAX_NAME_CHARS`` characters made of
  letters, digits and ``_`` (not starting with a digit), values of at most ``MAX_VALUE_CHARS``
  characters without NUL, and ``MAX_TOTAL_BYTES`` in all (names and values, UTF-8);
* no ``CLOUDBURST_*`` variable but the two the panel sets (``CLOUDBURST_RENDER_TARGET``,
  ``CLOUDBURST_CAMERA``): the others are the render node's own settings and files (its token,
  its path map), which a job never changes;
* the panel's two choices name a render target or a camera: one line of at most
  ``MAX_CHOICE_CHARS`` characters, without control characters, not starting with ``-`` (the
  runners put them on command lines, where they must never read as an option).

Only TDs and admins (``jobs.render_env``) may set the variables that decide what code the
renderer, or a program it starts, loads: the dynamic loader's (``LD_*``, ``DYLD_*``,
``GCONV_PATH``...), interpreters' (``PYTHON*``, ``PERL*``, ``RUBY*``, ``NODE_OPTIONS``, ``TCL*``,
Java's options, ``CLASSPATH``...), shells' (``PATH``, ``ENV``, ``BASH_ENV``, ``BASH_FUNC_*``...),
the folders the DCCs run start-up scripts and plug-ins from (``MAYA_SCRIPT_PATH``, ``NUKE_PATH``,
``HOUDINI_PATH``, ``BLENDER_USER_SCRIPTS``...) and the home and configuration folders where
programs find per-user start-up files (``HOME``, ``XDG_CONFIG_HOME``, ``APPDATA``...). Names
compare without regard to case, as Windows does. Data locations (``OCIO``, ``HOUDINI_PATHMAP``,
texture folders) stay open to artists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from common.errors import InvalidEnv
from common.jobspec import CAMERA_ENV, TARGET_ENV

MAX_VARIABLES = 200
MAX_NAME_CHARS = 255
MAX_VALUE_CHARS = 16_384
MAX_TOTAL_BYTES = 65_536
MAX_CHOICE_CHARS = 1024

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESERVED_PREFIX = "CLOUDBURST_"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: ``CLOUDBURST_*`` variables a job may set: the panel's choices for the runners.
JOB_VARIABLES = frozenset({TARGET_ENV, CAMERA_ENV})

_PRIVILEGED_PREFIXES = ("LD_", "DYLD_", "PYTHON", "PERL", "RUBY", "BASH_FUNC_", "TCL")
_PRIVILEGED_NAMES = frozenset(
    {
        # the dynamic loader and the C library
        "GCONV_PATH", "LOCPATH", "NLSPATH", "HOSTALIASES", "MALLOC_CHECK_", "OPENSSL_CONF",
        "OPENSSL_ENGINES",
        # interpreters and virtual machines
        "NODE_OPTIONS", "NODE_PATH", "LUA_PATH", "LUA_CPATH", "TK_LIBRARY", "CLASSPATH",
        "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS",
        # shells
        "PATH", "PATHEXT", "ENV", "BASH_ENV", "SHELLOPTS", "BASHOPTS", "PS4", "IFS", "CDPATH",
        "GLOBIGNORE", "ZDOTDIR",
        # the DCCs' start-up scripts and plug-ins
        "MAYA_SCRIPT_PATH", "MAYA_PLUG_IN_PATH", "MAYA_MODULE_PATH", "MAYA_APP_DIR",
        "MAYA_PRESET_PATH", "NUKE_PATH", "HOUDINI_PATH", "HOUDINI_SCRIPT_PATH",
        "HOUDINI_USER_PREF_DIR", "HOUDINI_DSO_PATH", "HOUDINI_OTLSCAN_PATH",
        "BLENDER_USER_SCRIPTS", "BLENDER_SYSTEM_SCRIPTS", "BLENDER_USER_CONFIG",
        "BLENDER_SYSTEM_PYTHON", "BLENDER_USER_RESOURCES", "BLENDER_SYSTEM_RESOURCES",
        "ARNOLD_PLUGIN_PATH", "RMANTREE", "OFX_PLUGIN_PATH",
        # per-user start-up files
        "HOME", "USERPROFILE", "APPDATA", "LOCALAPPDATA", "XDG_CONFIG_HOME", "XDG_DATA_HOME",
        "XDG_CONFIG_DIRS", "XDG_DATA_DIRS",
    }
)  # fmt: skip


def check_env(env: Mapping[str, str]) -> None:
    """Checks a job's environment against the limits and names every job obeys.

    Raises:
        InvalidEnv: too many variables, too long a name or value, too many bytes in all, a
            badly formed name, a NUL in a value, or a render node's own variable.
    """
    if len(env) > MAX_VARIABLES:
        raise InvalidEnv(
            f"The job's environment has {len(env)} variables; at most {MAX_VARIABLES} are "
            "allowed. Keep the ones the render needs."
        )
    total = 0
    for name, value in env.items():
        shown = name if len(name) <= 60 else f"{name[:60]}..."
        if len(name) > MAX_NAME_CHARS or not _NAME.match(name):
            raise InvalidEnv(
                f"The environment variable name {shown!r} is not allowed: use letters, digits "
                f"and '_' (not first a digit), at most {MAX_NAME_CHARS} characters."
            )
        upper = name.upper()
        if upper.startswith(_RESERVED_PREFIX) and upper not in JOB_VARIABLES:
            raise InvalidEnv(
                f"{name} is a setting of the render node itself, which a job cannot change. "
                "Remove it from the job's environment."
            )
        if len(value) > MAX_VALUE_CHARS:
            raise InvalidEnv(
                f"The value of {name} has {len(value)} characters; at most {MAX_VALUE_CHARS} are "
                "allowed. Put long data in a file and pass its path."
            )
        if "\x00" in value:
            raise InvalidEnv(f"The value of {name} holds a NUL character; remove it.")
        if upper in JOB_VARIABLES:
            check_choice(name, value)
        total += len(name.encode()) + len(value.encode())
    if total > MAX_TOTAL_BYTES:
        raise InvalidEnv(
            f"The job's environment holds {total} bytes; at most {MAX_TOTAL_BYTES} are "
            "allowed. Put long data in a file and pass its path."
        )


def check_choice(name: str, value: str) -> None:
    """Checks the value of one of the panel's choices (a render target or a camera).

    Raises:
        InvalidEnv: too long, a control character, or a leading ``-``.
    """
    why = ""
    if len(value) > MAX_CHOICE_CHARS:
        why = f"it has {len(value)} characters, at most {MAX_CHOICE_CHARS} are allowed"
    elif _CONTROL.search(value):
        why = "it holds a control character (a line break, a tab...)"
    elif value.startswith("-"):
        why = "it starts with '-', which a render command would read as an option"
    if why:
        raise InvalidEnv(
            f"The value of {name} is not a name a render can take: {why}. Pick the render "
            "target and the camera again in the panel, or rename them in the scene."
        )


def privileged_variables(env: Mapping[str, str]) -> list[str]:
    """The names in ``env`` that only TDs and admins may set, sorted."""
    return sorted(
        name
        for name in env
        if name.upper() in _PRIVILEGED_NAMES or name.upper().startswith(_PRIVILEGED_PREFIXES)
    )
