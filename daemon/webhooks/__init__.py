"""Webhooks: where a notification may go (``targets.py``), the words it says
(``messages.py``), its signature (``signing.py``), the one HTTP request that carries it
(``sender.py``) and what a try's answer means (``policy.py``). Pure but for ``sender.py`` and
the name lookup of ``targets.resolve``; ``daemon.services.notifications`` runs them."""
