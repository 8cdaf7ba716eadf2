"""The render-node agent: leases tasks from the daemon, renders them and reports back."""
