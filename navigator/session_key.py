"""The key that encrypts the advisors' session cookies, from the settings.

The key is ``NAVIGATOR_SESSION_SECRET`` when set; otherwise one is generated once and kept in
``NAVIGATOR_SESSION_KEY_FILE`` (readable by its owner only), so sessions survive a restart. Several
processes starting together agree on one key: the file is created exclusively, and a process that loses
the race reads the winner's key.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from cryptography.fernet import Fernet

from navigator.settings import Settings, SettingsError

log = logging.getLogger(__name__)


def session_key(settings: Settings) -> bytes:
    """The Fernet key that encrypts session cookies (url-safe base64 of 32 random bytes).

    Args:
        settings: ``session_secret`` is used when set; otherwise the key in ``session_key_file``,
            which is created (with its folder) on first use.

    Returns:
        The key, checked to be a usable Fernet key.

    Raises:
        SettingsError: naming NAVIGATOR_SESSION_SECRET or NAVIGATOR_SESSION_KEY_FILE when the key is unusable
            or the file cannot be read or written.
    """
    if settings.session_secret:
        return _checked(settings.session_secret.encode("ascii", "replace"), "NAVIGATOR_SESSION_SECRET")
    return _checked(_key_from_file(settings.session_key_file), "NAVIGATOR_SESSION_KEY_FILE")


def _checked(key: bytes, variable: str) -> bytes:
    try:
        Fernet(key)
    except ValueError:
        raise SettingsError(f"{variable} must hold a Fernet key (32 random bytes in url-safe base64), such as the "
                            "output of: python -c 'from cryptography.fernet import Fernet; "
                            "print(Fernet.generate_key().decode())'") from None
    return key


def _key_from_file(path: Path) -> bytes:
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    except OSError as error:
        raise SettingsError(f"NAVIGATOR_SESSION_KEY_FILE {path} cannot be read: {error.strerror}") from None
    key = Fernet.generate_key()
    # Written to a private temporary file, then linked into place: the link either appears complete or
    # fails because another process linked its key first, so no process ever reads a half-written key.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(descriptor, "wb") as file:
            file.write(key + b"\n")
        os.link(temporary, path)
    except FileExistsError:  # another process created it first: use its key
        return path.read_bytes().strip()
    except OSError as error:
        raise SettingsError(f"NAVIGATOR_SESSION_KEY_FILE {path} cannot be created: {error.strerror}") from None
    finally:
        temporary.unlink(missing_ok=True)
    log.info("generated a new session key in %s", path)
    return key
