"""What can go wrong between the daemon and ShotGrid, as Cloudburst errors with stable codes."""

from __future__ import annotations

from common.errors import InvalidInput, ServiceUnavailable


class ShotGridUnavailable(ServiceUnavailable):
    """ShotGrid did not answer, or refused a call; the caller may retry later."""

    code = "shotgrid_unavailable"


class UnknownShotGridLink(InvalidInput):
    """A submission names a ShotGrid project, shot or task that does not exist."""

    code = "unknown_shotgrid_link"


class ShotGridNotConfigured(InvalidInput):
    """A submission names ShotGrid codes, but this daemon has no ShotGrid site."""

    code = "shotgrid_not_configured"
