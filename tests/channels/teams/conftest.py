"""Teams channel tests: the pure modules of bot/ (teams_auth, teams_connector, teams_cards, teams_activity,
teams_extension) are imported by bare name, as the Rasa server imports them, with bot/ on the import path."""

from __future__ import annotations

import sys
from pathlib import Path

BOT_DIR = Path(__file__).resolve().parents[3] / "bot"
if str(BOT_DIR) not in sys.path:
    sys.path.insert(0, str(BOT_DIR))
