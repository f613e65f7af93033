"""The Navigator web service: one aiohttp process that loads the model and the index once and answers
Rasa's action calls at ``/webhook`` (the protocol of rasa-sdk's action server), with ``/health``.

Later parts of the product (the advisors' API and pages) are added to this same application.
"""

from __future__ import annotations

import asyncio
import json
import logging
import zlib
from collections.abc import AsyncIterator

from aiohttp import web
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection, ActionMissingDomainException, ActionNotFoundException

from actions.registry import build_actions
from navigator.context import SERVICES_KEY, SETTINGS_KEY, Services
from navigator.runtime import Runtime, open_runtime
from navigator.settings import Settings
from navigator.requests_cli import open_request_store, outbox_worker, purge_expired
from support_requests.errors import SupportRequestError
from support_requests.store import RequestStore
from web import setup_web
from web.insights.demand import DemandLog
from web.insights.recorder import DemandRecorder

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 4 * 1024 * 1024
RETENTION_INTERVAL_SECONDS = 6 * 3600


__all__ = ["SERVICES_KEY", "SETTINGS_KEY", "Services", "create_app", "serve"]


def build_executor(runtime: Runtime, store: RequestStore, settings: Settings,
                   demand: DemandRecorder | None = None) -> ActionExecutor:
    """Rasa's action executor with every action registered; ``demand`` notes unmet needs (none: not noted)."""
    executor = ActionExecutor()
    for action in build_actions(runtime.engine, store, advisors_email=settings.advisors_email,
                                privacy_notice_version=settings.privacy_notice_version, demand=demand):
        executor.register_action(action)
    return executor


def create_app(settings: Settings, *, runtime: Runtime | None = None, store: RequestStore | None = None) -> web.Application:
    """The service. ``runtime`` and ``store`` may be passed in (tests); otherwise they are opened at start-up."""
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[SETTINGS_KEY] = settings

    async def services(app: web.Application) -> AsyncIterator[None]:
        loaded = runtime or await asyncio.to_thread(open_runtime, settings)
        # Opening the store applies any pending database migrations.
        opened = store or await asyncio.to_thread(open_request_store, settings)
        demand = DemandRecorder(DemandLog(opened.engine, clock=opened.clock))
        app[SERVICES_KEY] = Services(loaded, opened, build_executor(loaded, opened, settings, demand))
        worker = outbox_worker(settings, opened)
        background = [asyncio.create_task(worker.run(), name="outbox"),
                      asyncio.create_task(_retention(settings, opened), name="retention")]
        log.info("Navigator service ready: %d catalogue entries", len(loaded.engine))
        yield
        worker.stop()
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        await worker.aclose()
        if store is None:
            opened.close()

    app.cleanup_ctx.append(services)
    app.router.add_get("/health", health)
    app.router.add_post("/webhook", webhook)
    app.router.add_get("/actions", list_actions)
    setup_web(app)
    return app


async def _retention(settings: Settings, store: RequestStore) -> None:
    """Erase the personal data of requests closed longer than the retention period, at start and every six hours."""
    while True:
        try:
            report, _ = await asyncio.to_thread(purge_expired, settings, store)
            if report.references:
                log.info("retention: erased the personal data of %s", ", ".join(report.references))
        except SupportRequestError as exc:
            log.error("retention run failed: %s", exc)
        await asyncio.sleep(RETENTION_INTERVAL_SECONDS)


async def health(request: web.Request) -> web.Response:
    services = request.app[SERVICES_KEY]
    return web.json_response({"status": "ok", "entries": len(services.runtime.engine)})


async def webhook(request: web.Request) -> web.Response:
    """Run one action for Rasa, answering as rasa-sdk's own action server does."""
    executor = request.app[SERVICES_KEY].executor
    body = await request.read()
    if request.headers.get("Content-Encoding") == "deflate" and not body.lstrip().startswith(b"{"):
        # Rasa compresses large calls; aiohttp may already have inflated the body.
        try:
            body = zlib.decompress(body)
        except zlib.error:
            return web.json_response({"error": "the body is not valid deflate data"}, status=400)
    try:
        action_call = json.loads(body)
    except ValueError:
        return web.json_response({"error": "the body must be a JSON action call"}, status=400)
    if not isinstance(action_call, dict) or "next_action" not in action_call:
        return web.json_response({"error": "the body must be a JSON action call with next_action"}, status=400)
    # Rasa sends the domain only to the actions that ask for it (selective domain); the others need none.
    action_call.setdefault("domain", {})
    try:
        result = await executor.run(action_call)
    except ActionExecutionRejection as exc:
        return web.json_response({"error": exc.message, "action_name": exc.action_name}, status=400)
    except ActionNotFoundException as exc:
        log.error("Rasa asked for an unknown action: %s", exc.action_name)
        return web.json_response({"error": exc.message, "action_name": exc.action_name}, status=404)
    except ActionMissingDomainException as exc:
        return web.json_response({"error": exc.message, "action_name": exc.action_name}, status=449)
    return web.json_response(result.model_dump() if result else None)


async def list_actions(request: web.Request) -> web.Response:
    executor = request.app[SERVICES_KEY].executor
    return web.json_response([item.model_dump() for item in executor.list_actions()])


def serve(settings: Settings, host: str, port: int) -> None:
    """Run the service until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    web.run_app(create_app(settings), host=host, port=port, print=None, access_log=None)
