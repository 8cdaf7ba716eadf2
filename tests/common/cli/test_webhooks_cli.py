"""``cloudburst webhooks add|list|remove`` on a real daemon over HTTP."""

from __future__ import annotations

import json

from click.testing import Result

from common.accounts import Role
from daemon.app import Services
from tests.cli_isolation import invoke_served, no_user_config  # noqa: F401 (autouse)
from tests.conftest import user_token

URL = "https://93.184.216.34/hooks/render"


def invoke(args: list[str], url: str, token: str) -> Result:
    return invoke_served(args, url, token)


def test_add_list_and_remove(live_url: str, services: Services) -> None:
    ana = user_token(services, "ana", Role.ARTIST)
    added = invoke(["webhooks", "add", URL, "--format", "slack", "--description", "desk"],
                   live_url, ana)  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "Signing secret (shown only now" in added.output
    assert "whsec_" in added.output
    listed = invoke(["webhooks", "list", "--json"], live_url, ana)
    [hook] = json.loads(listed.output)
    assert hook["events"] == ["job.succeeded", "job.failed", "job.needs_attention"]
    assert (hook["format"], hook["scope"], hook["description"]) == ("slack", "user", "desk")
    assert "secret" not in hook
    table = invoke(["webhooks", "list"], live_url, ana)
    assert URL in table.output and "own jobs" in table.output
    removed = invoke(["webhooks", "remove", str(hook["id"])], live_url, ana)
    assert removed.exit_code == 0, removed.output
    assert json.loads(invoke(["webhooks", "list", "--json"], live_url, ana).output) == []


def test_a_show_webhook_hears_its_budget_and_artists_are_told_why_not(
    live_url: str, services: Services
) -> None:
    pam = user_token(services, "pam", Role.PRODUCER)
    added = invoke(["webhooks", "add", URL, "--show", "show", "--json"], live_url, pam)
    assert added.exit_code == 0, added.output
    created = json.loads(added.output)
    assert created["project"] == "show" and "budget.reached" in created["events"]
    ana = user_token(services, "ana", Role.ARTIST)
    refused = invoke(["webhooks", "add", URL, "--show", "show"], live_url, ana)
    assert refused.exit_code == 1
    assert "cannot subscribe a whole show" in refused.output
    assert "Traceback" not in refused.output


def test_a_forbidden_address_is_explained(live_url: str, services: Services) -> None:
    ana = user_token(services, "ana", Role.ARTIST)
    refused = invoke(["webhooks", "add", "http://169.254.169.254/latest"], live_url, ana)
    assert refused.exit_code == 1
    assert "link-local or cloud metadata address" in refused.output
    assert json.loads(invoke(["webhooks", "list", "--json"], live_url, ana).output) == []
