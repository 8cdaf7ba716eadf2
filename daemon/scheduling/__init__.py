"""Pure scheduling policy: no Flask, no SQL, no clock of its own (``now`` is an argument)."""
