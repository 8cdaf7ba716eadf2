"""Backup destinations: folders and object store URLs, with the connection they take."""

from __future__ import annotations

from common.config import load_settings
from daemon.backup.destination import store_settings


def test_an_s3_url_takes_the_backup_tables_connection() -> None:
    env = {"CLOUDBURST_BACKUP__STORE": '{"endpoint": "http://127.0.0.1:8333", "region": "eu"}',
           "CLOUDBURST_STORE__ENDPOINT": "http://elsewhere:9000"}  # fmt: skip
    store = store_settings("s3://farm-backups/daily", load_settings(env=env))
    assert store is not None
    assert (store.kind, store.bucket, store.prefix) == ("s3", "farm-backups", "daily/")
    assert (store.endpoint, store.region) == ("http://127.0.0.1:8333", "eu")


def test_object_store_urls_fall_back_to_the_farm_stores_connection() -> None:
    env = {"CLOUDBURST_STORE__ENDPOINT": "https://ns.compat.objectstorage.oraclecloud.com",
           "CLOUDBURST_STORE__BUCKET": "renders"}  # fmt: skip
    settings = load_settings(env=env)
    oci = store_settings("oci://backups/farm-a/", settings)
    assert oci is not None and (oci.kind, oci.bucket, oci.prefix) == ("oci", "backups", "farm-a/")
    assert oci.endpoint == "https://ns.compat.objectstorage.oraclecloud.com"
    plain = store_settings("s3://backups", settings)
    assert plain is not None and plain.prefix == ""


def test_folders_are_not_object_stores() -> None:
    settings = load_settings(env={})
    assert store_settings("/srv/backups", settings) is None
    assert store_settings("file:///srv/backups", settings) is None
    assert store_settings("relative/backups", settings) is None
    assert store_settings("C:/backups", settings) is None  # a Windows drive, not a scheme
