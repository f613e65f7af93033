"""What the service's views share, under typed application keys: the settings and the objects loaded once."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from rasa_sdk.executor import ActionExecutor

from navigator.runtime import Runtime
from navigator.settings import Settings
from support_requests.store import RequestStore


@dataclass
class Services:
    """Loaded once at start-up: the search engine (with its model), the request store and Rasa's action executor."""

    runtime: Runtime
    store: RequestStore
    executor: ActionExecutor


SETTINGS_KEY = web.AppKey("settings", Settings)
SERVICES_KEY = web.AppKey("services", Services)
