"""The on-prem scheduler daemon: REST API, SQLite state, ranking, dispatch and the reaper."""
