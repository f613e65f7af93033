"""The Navigator web service: one aiohttp process that loads the model and the index once and answers
Rasa's action calls at ``/webhook`` (the protocol of rasa-sdk's action server), with ``/health``, and serves
the web faces (:mod:`web`): the website, the advisors' console and the API. Everything they use is built once,
by :func:`navigator.wiring.open_services`, here in the app factory.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import zlib
from collections.abc import AsyncIterator

from aiohttp import web
from rasa_sdk.interfaces import ActionExecutionRejection, ActionMissingDomainException, ActionNotFoundException

from navigator.periodic import run_each_period
from navigator.settings import Settings
from navigator.stores import outbox_worker
from navigator.wiring import open_services, web_settings
from support_requests.retention import purge_expired
from support_requests.schedule import RunLedger
from support_requests.store import RequestStore
from web import setup_web
from web.services import SERVICES_KEY, SETTINGS_KEY, Services

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 4 * 1024 * 1024
RETENTION_PERIOD = dt.timedelta(hours=6)
RETENTION_CHECK_SECONDS = 300.0


def create_app(settings: Settings, *, services: Services | None = None) -> web.Application:
    """The service: Rasa's action endpoint, the website, the console, the API and the metrics.

    Args:
        settings: the settings.
        services: built by the caller (tests, with fakes), who also closes them; otherwise they are built
            at start-up by :func:`navigator.wiring.open_services` and closed at shutdown.

    Raises:
        SettingsError: when the session key cannot be read or created.
    """
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[SETTINGS_KEY] = web_settings(settings)

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        opened = services or await asyncio.to_thread(open_services, settings)
        app[SERVICES_KEY] = opened
        worker = outbox_worker(settings, opened.store)
        if settings.follow_up_delay_days is not None and not settings.public_url:
            log.warning("completed requests are not followed up: the follow-up email links to NAVIGATOR_PUBLIC_URL, "
                        "which is empty")
        background = [asyncio.create_task(worker.run(), name="outbox"),
                      asyncio.create_task(_retention(settings, opened.store), name="retention")]
        log.info("Navigator service ready: %d catalogue entries", len(opened.engine))
        yield
        worker.stop()
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        await worker.aclose()
        if services is None:
            opened.close()

    app.cleanup_ctx.append(lifetime)
    app.router.add_get("/health", health)
    app.router.add_post("/webhook", webhook)
    app.router.add_get("/actions", list_actions)
    setup_web(app)
    return app


async def _retention(settings: Settings, store: RequestStore) -> None:
    """Erase the personal data of requests closed longer than the retention period, every six hours: by one
    replica of the service only, whichever claims the run first (at start when none ran in the last six hours)."""

    async def purge() -> None:
        report, _ = await asyncio.to_thread(purge_expired, store, settings.tracker_db_url, settings.retention_days)
        if report.references:
            log.info("retention: erased the personal data of %s", ", ".join(report.references))

    await run_each_period(RunLedger(store.engine), "retention", RETENTION_PERIOD, purge,
                          check_every=RETENTION_CHECK_SECONDS)


async def health(request: web.Request) -> web.Response:
    services = request.app[SERVICES_KEY]
    return web.json_response({"status": "ok", "entries": len(services.engine)})


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
