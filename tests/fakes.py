"""Small, fast stand-ins for the heavy objects, and builders of test catalogues."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

_WORD = re.compile(r"[a-z0-9åäö]+")


class HashingEmbedder:
    """Bag-of-words vectors: each word adds 1 at a hashed position, then the vector is normalised.

    Texts that share words get a positive cosine; texts that share none get about 0.
    Counts the texts it encodes, so tests can see what an update re-encoded.
    """

    def __init__(self, dimension: int = 256, name: str = "hashing-test-embedder"):
        self._dimension = dimension
        self._name = name
        self.encoded: list[str] = []

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._dimension

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode_passages(texts)

    def encode_passages(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        self.encoded += list(texts)
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                digest = hashlib.md5(word.encode()).digest()
                out[row, int.from_bytes(digest[:4], "little") % self._dimension] += 1.0
            norm = np.linalg.norm(out[row])
            if norm > 0:
                out[row] /= norm
        return out


def entry(entry_id: str, **fields: Any) -> dict[str, Any]:
    """A valid raw facility record; ``fields`` override or add fields (``None`` removes one)."""
    record: dict[str, Any] = {
        "id": entry_id,
        "type": "facility",
        "name": entry_id.replace("-", " ").title(),
        "organisation": "Karolinska Institutet",
        "site": "flemingsberg",
        "summary": f"The {entry_id} unit.",
        "summary_sv": f"Enheten {entry_id}.",
        "description": f"The {entry_id} unit helps companies. It has staff and instruments for research projects.",
        "services": ["analysis"],
        "open_to_companies": True,
        "access": "Ask the contact.",
        "contact": "contact-desk",
        "url": "https://example.org/unit",
        "last_verified": "2026-11-20",
    }
    record.update(fields)
    return {k: v for k, v in record.items() if v is not None}


def expert(entry_id: str = "contact-desk", serves: list[str] | None = None, **fields: Any) -> dict[str, Any]:
    record = entry(
        entry_id, type="expert", role="Business developer", email=f"{entry_id}@example.org",
        serves=serves or [], sample_contact=True, services=None, open_to_companies=None, access=None, contact=None,
        description="The business desk answers companies' questions about using the units and routes requests.",
    )
    record.update(fields)
    return record


def write_catalogue(folder: Path, records: list[dict[str, Any]], name: str = "catalogue.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(yaml.safe_dump({"entries": records}, allow_unicode=True, sort_keys=False),
                               encoding="utf-8")
    return folder


SAMPLE = [
    entry("vecura-gmp", name="Vecura", organisation="Karolinska University Hospital",
          summary="GMP manufacturing of viral vectors and cell therapy products for clinical trials.",
          summary_sv="GMP-tillverkning av virala vektorer och cellterapiprodukter för kliniska prövningar.",
          description="Vecura manufactures viral vectors and cell therapy products under GMP in clean rooms. "
                      "Companies bring a process for technology transfer and receive clinical grade material.",
          services=["GMP manufacturing", "technology transfer"], keywords=["cellterapi", "genterapi"]),
    entry("cryo-em-solna", name="Cryo-EM unit", organisation="SciLifeLab", site="hagastaden",
          summary="Cryo-electron microscopy for protein structures.",
          summary_sv="Kryo-elektronmikroskopi för att bestämma proteiners struktur.",
          description="The unit determines protein structures with cryo electron microscopy. "
                      "Membrane proteins and complexes are imaged at high resolution.",
          services=["single particle analysis"]),
    entry("flow-flemingsberg", name="Flow cytometry core", site="flemingsberg",
          name_sv="Kärnfaciliteten för flödescytometri",
          summary="Flow cytometry analysis and cell sorting.",
          summary_sv="Analys och cellsortering med flödescytometri.",
          description="The core sorts and analyses cells by flow cytometry. Immune cells are measured with many colours.",
          services=["cell sorting", "FACS analysis"], keywords=["flödescytometri"]),
    entry("flow-biomedicum", name="Biomedicum flow cytometry", site="hagastaden",
          summary="Flow cytometry and sorting in Solna.", summary_sv="Flödescytometri och cellsortering i Solna.",
          description="Biomedicum offers flow cytometry analysis and cell sorting for immune cells and tumour cells.",
          services=["cell sorting"]),
    entry("almi-loans", type="programme", name="Almi innovation loans", organisation="Almi", site="elsewhere",
          location="National (Sweden)", summary="Loans for innovative small companies.",
          name_sv="Almis innovationslån", summary_sv="Lån till små innovativa företag.",
          description="Almi lends money to small companies that develop new products, with advice on financing.",
          services=["innovation loans"], eligibility="Small and medium-sized companies in Sweden.",
          how_to_apply="Contact an Almi advisor."),
    entry("closed-lab", name="Closed research lab", open_to_companies=False,
          summary="A lab for internal research only.", summary_sv="Ett labb enbart för intern forskning.",
          description="The lab does genome sequencing for internal research groups only."),
    expert(serves=["vecura-gmp", "flow-flemingsberg"]),
]
