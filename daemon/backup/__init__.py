"""Backups of a daemon's data folder, and restores from them.

``contents`` says what a backup takes; ``writer`` takes one (online, verified); ``restore``
rebuilds a folder; ``repository`` lists and deletes backups at a destination (``destination``
opens a folder or an object store); ``policy`` is the pure schedule and retention. The use
cases are ``daemon.services.backup.BackupService``; the commands ``daemon.backup_cli``.
"""
