"""The ``local`` backend describes the on-prem agents and never launches nor stops one."""

from __future__ import annotations

from common.cloud_settings import CloudSettings
from common.models import AgentRegistration
from daemon.app import Services
from daemon.backends import NodeState, ProvisionProblem, ProvisionRequest, get_backend
from daemon.storage import agents as agent_store


def test_the_local_farm_is_its_agents_with_studio_storage(services: Services) -> None:
    for name, studio in (("farm-01", True), ("farm-02", True), ("oci-1", False)):
        services.agents.register(
            AgentRegistration(
                name=name, hostname=name, cores=8, memory_mb=32768, studio_access=studio
            )
        )
    local = get_backend(
        "local", CloudSettings(),
        agents=lambda: agent_store.list_agents(services.context.database.db),
    )  # fmt: skip
    nodes = local.describe()
    assert sorted(n.name for n in nodes) == ["farm-01", "farm-02"]
    assert all(n.state is NodeState.RUNNING and n.ocpus == 8 and n.memory_gb == 32 for n in nodes)
    assert local.capacity().running == 2
    result = local.provision(ProvisionRequest(count=3, pool="local", enrollment_tokens=("a",) * 3))
    assert result.nodes == () and result.problem is ProvisionProblem.AT_MAX_NODES
    assert "not from here" in result.message
    assert local.release([n.id for n in nodes]) == []
