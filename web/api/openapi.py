"""The API's OpenAPI 3.1 document: written by hand in ``web/api/openapi.yaml``, served as JSON and as YAML."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

OPENAPI_PATH = Path(__file__).resolve().parent / "openapi.yaml"


@dataclass(frozen=True)
class OpenApiDocument:
    """The document as written (``text``) and as parsed (``data``)."""

    text: str
    data: dict[str, Any]


OPENAPI_KEY = web.AppKey("openapi", OpenApiDocument)


def load_openapi(path: Path = OPENAPI_PATH) -> OpenApiDocument:
    """Read and parse the document.

    Raises:
        ValueError: when the file is not a YAML mapping with ``openapi`` and ``paths``.
    """
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or "openapi" not in data or "paths" not in data:
        raise ValueError(f"{path} is not an OpenAPI document (no 'openapi' or 'paths')")
    return OpenApiDocument(text=text, data=data)


async def openapi_json(request: web.Request) -> web.Response:
    """The OpenAPI document as JSON (public: it describes the API, it holds no data)."""
    return web.json_response(request.app[OPENAPI_KEY].data)


async def openapi_yaml(request: web.Request) -> web.Response:
    """The OpenAPI document as written, in YAML."""
    return web.Response(text=request.app[OPENAPI_KEY].text, content_type="application/yaml", charset="utf-8")
