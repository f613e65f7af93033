"""Support requests: storing what companies ask for, following them up, and notifying contacts and advisors.

No Rasa imports and nothing heavy at import time. Start with
:class:`support_requests.store.RequestStore` (``RequestStore.from_url(url)``) and
the values in :mod:`support_requests.model`; deliver notifications with
:class:`support_requests.worker.OutboxWorker`.
"""
