"""Opening the stores and the delivery worker from the settings; the command line and the service share these.

Only the data layer is imported here, so that the command line starts without the model, Rasa's SDK or the web.
"""

from __future__ import annotations

import datetime as dt

from argon2 import PasswordHasher

from navigator.session_key import session_key
from navigator.settings import Settings
from support_requests.accounts import AccountStore
from support_requests.follow_up import FollowUpLinks, FollowUpPolicy, derive_link_key
from support_requests.mailer import SmtpMailer, SmtpSettings
from support_requests.model import Recipients
from support_requests.status_guard import StatusCheckGuard
from support_requests.store import RequestStore
from support_requests.webhook import WebhookSender
from support_requests.worker import OutboxWorker


def open_request_store(settings: Settings) -> RequestStore:
    """The store at ``settings.database_url``, migrated and ready, notifying the configured mailboxes and following
    up completed requests when the settings turn that on."""
    recipients = Recipients(advisors_email=settings.advisors_email, webhook_url=settings.webhook_url or None)
    return RequestStore.from_url(settings.database_url, recipients=recipients, follow_up=follow_up_policy(settings))


def follow_up_links(settings: Settings) -> FollowUpLinks:
    """Signs and checks the follow-up links, with a key derived from the session key (read, or created once).

    Raises:
        SettingsError: when the session key cannot be read or created.
    """
    return FollowUpLinks(derive_link_key(session_key(settings)))


def follow_up_policy(settings: Settings) -> FollowUpPolicy | None:
    """How completed requests are followed up (``NAVIGATOR_FOLLOW_UP_DELAY_DAYS`` after completion, linking to
    ``NAVIGATOR_PUBLIC_URL``), or None when follow-ups are off or there is no public URL to link to.

    Raises:
        SettingsError: when the session key cannot be read or created.
    """
    if not settings.follow_up_enabled or settings.follow_up_delay_days is None:
        return None
    return FollowUpPolicy(links=follow_up_links(settings), public_url=settings.public_url,
                          delay=dt.timedelta(days=settings.follow_up_delay_days))


def outbox_worker(settings: Settings, store: RequestStore) -> OutboxWorker:
    """A delivery worker for ``store``'s outbox: SMTP when ``smtp_host`` is set, the webhook when its URL is."""
    deliverers: list = []
    if settings.smtp_host:
        deliverers.append(SmtpMailer(SmtpSettings(
            host=settings.smtp_host, port=settings.smtp_port, sender=settings.mail_from,
            starttls=settings.smtp_starttls, cafile=str(settings.smtp_cafile or ""), user=settings.smtp_user,
            password=settings.smtp_password)))
    if settings.webhook_url:
        deliverers.append(WebhookSender(settings.webhook_secret))
    return OutboxWorker(store.outbox, deliverers)


def open_account_store(settings: Settings, store: RequestStore, hasher: PasswordHasher | None = None) -> AccountStore:
    """The advisors' accounts in the request database, with the sign-in lock-out from the settings."""
    return AccountStore(store.engine, clock=store.clock, hasher=hasher, max_failures=settings.signin_max_failures,
                        lockout=dt.timedelta(minutes=settings.signin_lockout_minutes))


def open_status_guard(settings: Settings, store: RequestStore) -> StatusCheckGuard:
    """The limit on failed status checks, counted in the request database, with the limits from the settings."""
    return StatusCheckGuard(store.engine, clock=store.clock, max_failures=settings.status_check_max_failures,
                            window=dt.timedelta(minutes=settings.status_check_window_minutes))
