"""The responses of bot/domain.yml as the tests read them: each response's English and Swedish variation.

Every response has a Swedish variation, conditioned on the slot ``language`` being ``sv``, and an English one
without a condition, which Rasa says when the slot is empty or ``en``. Tests that compare what the assistant
said with the domain's wording read the English one through :func:`english`, never ``variations[0]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from navigator.settings import PROJECT_ROOT

DOMAIN_PATH = PROJECT_ROOT / "bot" / "domain.yml"
LANGUAGE_SLOT = "language"
SWEDISH = "sv"


def load_domain(path: Path = DOMAIN_PATH) -> dict[str, Any]:
    """The domain file as plain data (YAML parsed, nothing of Rasa's)."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def is_swedish(variation: dict[str, Any]) -> bool:
    """True when ``variation`` is conditioned on the language slot being Swedish (and on nothing else)."""
    return variation.get("condition") == [{"type": "slot", "name": LANGUAGE_SLOT, "value": SWEDISH}]


def english(variations: list[dict[str, Any]], channel: str | None = None) -> dict[str, Any]:
    """The English variation of a response (the one without a condition) for ``channel`` (none: any channel).

    Raises:
        LookupError: naming what is missing, when the response has no such variation.
    """
    for variation in variations:
        if "condition" not in variation and variation.get("channel") == channel:
            return variation
    raise LookupError(f"no English variation for channel {channel!r} among {variations!r}")


def swedish(variations: list[dict[str, Any]], channel: str | None = None) -> dict[str, Any]:
    """The Swedish variation of a response for ``channel`` (none: any channel).

    Raises:
        LookupError: naming what is missing, when the response has no such variation.
    """
    for variation in variations:
        if is_swedish(variation) and variation.get("channel") == channel:
            return variation
    raise LookupError(f"no Swedish variation for channel {channel!r} among {variations!r}")


def english_texts(domain: dict[str, Any] | None = None) -> dict[str, str]:
    """The English text of every response that has one, by response name."""
    responses = (domain or load_domain())["responses"]
    texts = {name: english(variations).get("text") for name, variations in responses.items()}
    return {name: text for name, text in texts.items() if text is not None}
