"""The advisors' session cookie: encrypted and signed (Fernet) by aiohttp-session.

The key comes from the settings (``navigator.session_key`` reads or creates it); see ``docs/console.md``.
"""

from __future__ import annotations

import aiohttp_session
from aiohttp import web
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.fernet import Fernet

from web.services import WebSettings

COOKIE_NAME = "navigator_session"


def session_storage(settings: WebSettings) -> EncryptedCookieStorage:
    """The cookie storage: HttpOnly, SameSite=Strict, Secure unless ``cookie_secure`` is false.

    The cookie lives ``session_max_age_minutes``; the server also refuses a cookie older than that
    (aiohttp-session decrypts with that time-to-live).
    """
    return EncryptedCookieStorage(Fernet(settings.session_key), cookie_name=COOKIE_NAME,
                                  max_age=settings.session_max_age_minutes * 60, path="/",
                                  secure=settings.cookie_secure, httponly=True, samesite="Strict")


def setup_sessions(app: web.Application, settings: WebSettings) -> None:
    """Add aiohttp-session's middleware to ``app`` (once: it is the console that owns sessions)."""
    aiohttp_session.setup(app, session_storage(settings))
