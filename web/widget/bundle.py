"""Where the chat widget's JavaScript bundle is installed, and its version (it versions the bundle's URL)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

WIDGET_PACKAGE_DIR = Path(__file__).resolve().parent
"""``web/widget``: holds ``package.json``, ``package-lock.json`` and, once installed, ``node_modules``."""

WEBCHAT_PACKAGE = "rasa-webchat"
BUNDLE_URL_PATH = "/static/vendor/rasa-webchat.js"
"""Where the service serves the bundle; the loader fetches it from the loader's own origin."""


@dataclass(frozen=True)
class WidgetBundle:
    """The installed rasa-webchat package.

    Attributes:
        package_dir: ``node_modules/rasa-webchat``; it may not exist (not installed yet).
    """

    package_dir: Path

    @classmethod
    def installed(cls, widget_dir: Path = WIDGET_PACKAGE_DIR) -> WidgetBundle:
        """The package as ``npm ci`` installs it below ``widget_dir``."""
        return cls(widget_dir / "node_modules" / WEBCHAT_PACKAGE)

    @property
    def script(self) -> Path:
        """The self-contained browser build (UMD, defines ``window.WebChat``)."""
        return self.package_dir / "lib" / "index.js"

    def exists(self) -> bool:
        """True when the browser build is installed."""
        return self.script.is_file()

    def version(self) -> str | None:
        """The installed package's version (``"1.0.1"``), or None when it is not installed or unreadable."""
        try:
            manifest = json.loads((self.package_dir / "package.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        version = manifest.get("version") if isinstance(manifest, dict) else None
        return version if isinstance(version, str) and version else None

    def url_path(self) -> str:
        """The bundle's path on the service, with ``?v=VERSION`` so that browsers may cache it until an upgrade."""
        version = self.version()
        return f"{BUNDLE_URL_PATH}?v={version}" if version else BUNDLE_URL_PATH

    def missing_message(self) -> str:
        """What an operator should do when the bundle is not installed."""
        return (f"the chat widget is not installed: {self.script} is missing; run 'make setup' (it runs "
                f"'npm ci' in {self.package_dir.parent.parent})")


BUNDLE_KEY = web.AppKey("widget_bundle", WidgetBundle)
