"""ShotGrid (Flow Production Tracking) through shotgun_api3: links, sync, write-back.

``client`` wraps shotgun_api3; ``mapping`` is the configured field mapping (pure); ``links``
checks a submission's project/shot/task; ``sync`` reads what changed into SQLite; ``writeback``
sends Task statuses and Versions through an outbox.
"""

from daemon.shotgun.client import ShotGridClient
from daemon.shotgun.errors import ShotGridNotConfigured, ShotGridUnavailable, UnknownShotGridLink
from daemon.shotgun.sync import ShotGridSync
from daemon.shotgun.writeback import WriteBack

__all__ = [
    "ShotGridClient",
    "ShotGridNotConfigured",
    "ShotGridSync",
    "ShotGridUnavailable",
    "UnknownShotGridLink",
    "WriteBack",
]
