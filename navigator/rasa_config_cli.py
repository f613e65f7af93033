"""``navigator rasa-config``: write a Rasa server's endpoints.yml and credentials.yml from the ``NAVIGATOR_*``
settings, for a Rasa server that this command does not start (a container; see deploy/ and docs/deploy.md).

The files are the ones ``navigator run`` and ``navigator cluster`` write (:func:`navigator.launcher.write_rasa_config`):
the action endpoint is the relay inside the Rasa server (bot/action_relay.py) with a new relay secret, the relay
passes the calls on to ``--service-url``, and the tracker and lock stores come from the settings.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from navigator.settings import Settings


class RasaConfigError(ValueError):
    """The settings cannot make a Rasa configuration that several servers may share; the message says why."""


def add_rasa_config_command(subparsers: argparse._SubParsersAction) -> None:
    """Add ``rasa-config`` to the ``navigator`` command line."""
    command = subparsers.add_parser("rasa-config", help="write Rasa's endpoints.yml and credentials.yml from the "
                                                        "settings, for a Rasa server started elsewhere")
    command.add_argument("--out", type=Path, required=True, help="the folder to write the two files into")
    command.add_argument("--rasa-port", type=int, default=5005,
                         help="the port the Rasa server listens on (its action relay is there; default 5005)")
    command.add_argument("--service-url", required=True,
                         help="the Navigator services as the Rasa server reaches them, such as http://navigator:5055")
    command.set_defaults(handler=_rasa_config)


def _rasa_config(args: argparse.Namespace, settings: Settings) -> int:
    endpoints, credentials = write_config(settings, args.out, rasa_port=args.rasa_port, service_url=args.service_url)
    print(f"wrote {endpoints} and {credentials}: actions through the relay to {args.service_url.rstrip('/')}/webhook, "
          f"tracker store {settings.tracker_db_url.split(':', 1)[0]}, "
          f"lock store {'Redis' if settings.redis_url else 'in memory (one server only)'}")
    return 0


def write_config(settings: Settings, out: Path, *, rasa_port: int, service_url: str) -> tuple[Path, Path]:
    """Write endpoints.yml and credentials.yml into ``out``; returns their paths.

    Raises:
        RasaConfigError: the Slack or Teams channel is on but NAVIGATOR_CHANNELS_API_TOKEN is not set (each start
            would otherwise create another API token), the port is not one, or the address is not http(s).
    """
    if not 1 <= rasa_port <= 65535:
        raise RasaConfigError(f"--rasa-port must be a port number (1 to 65535), got {rasa_port}")
    if not service_url.startswith(("http://", "https://")):
        raise RasaConfigError(f"--service-url must be an http:// or https:// address, got '{service_url}'")
    if (settings.slack_enabled or settings.teams_enabled) and not settings.channels_api_token:
        raise RasaConfigError("NAVIGATOR_CHANNELS_API_TOKEN must be set when the Slack or Teams channel is on and "
                              "Rasa's configuration is written for a server started elsewhere: create a reader token "
                              "once ('navigator tokens add NAME --role reader') and share it (docs/deploy.md)")
    from navigator.launcher import write_rasa_config  # only when it runs: the parser stays light

    return write_rasa_config(settings, out, rasa_port=rasa_port, service_url=service_url)
