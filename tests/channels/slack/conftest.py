"""The Slack channel's tests: unit tests of the pure modules in bot/ (run in .venv, bot/ put on the import path
by :mod:`tests.channels.slack.payloads`), and end-to-end tests against a Rasa server with the channel."""

from __future__ import annotations

from tests.channels.slack import payloads  # noqa: F401  (puts bot/ on sys.path)
