"""The desktop agent: what runs on an artist's desktop instance in the cloud.

It reports to the daemon every ``report_interval_s`` (``agent.py``), asks the daemon's broker
whether a client's one-time connection token is good (``broker.py``), and serves the display
stand-in a client connects to (``display.py``: connect with a token, files in the home folder,
status; ``files.py`` keeps those files inside home; ``dcv_auth.py`` answers a NICE DCV
server's external authenticator the same way). ``cli.py`` is ``python -m cloud_agent.desktop``.

It reads no Cloudburst configuration and no ``CLOUDBURST_*`` variable: everything it knows
comes from its command line, and its session's secret from a file only its user may read.
"""
