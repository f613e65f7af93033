from __future__ import annotations

import json

import pytest

from index.build import BuildOptions, build_index, index_is_fresh, open_index
from index.catalogue import load_catalogue
from index.engine import SearchEngine
from index.errors import IndexCorruptError, IndexMissingError
from index.store import load_index, save_index
from tests.fakes import SAMPLE, HashingEmbedder, entry, write_catalogue


def search_ids(state, embedder, processor, query: str, top: int = 5) -> list[str]:
    return [h.entry.id for h in SearchEngine(state, embedder, processor).search(query, top=top)]


def test_saved_index_answers_like_the_built_one(tmp_path, sample_dir, embedder, processor) -> None:
    catalogue = load_catalogue(sample_dir)
    state, report = build_index(catalogue, embedder, processor)
    assert report.full and report.passages_encoded == state.manifest.passage_count
    manifest = save_index(state, tmp_path / "index")
    assert manifest.model == embedder.name and manifest.dimension == embedder.dimension
    assert manifest.catalogue_hash == catalogue.content_hash() and manifest.entry_count == len(catalogue)
    assert set(manifest.files) >= {"entries.json", "dense.faiss"}
    loaded = load_index(tmp_path / "index")
    for query in ["flow cytometry", "GMP", "loans for companies"]:
        assert search_ids(loaded, embedder, processor, query) == search_ids(state, embedder, processor, query)


def test_missing_index_says_how_to_build(tmp_path) -> None:
    with pytest.raises(IndexMissingError, match="navigator index build"):
        load_index(tmp_path / "nothing")


@pytest.mark.parametrize("damage", ["truncate-dense", "edit-entries", "delete-keyword", "garble-manifest"])
def test_damaged_index_is_detected_with_rebuild_hint(tmp_path, sample_dir, embedder, processor, damage) -> None:
    state, _ = build_index(load_catalogue(sample_dir), embedder, processor)
    folder = tmp_path / "index"
    save_index(state, folder)
    if damage == "truncate-dense":
        (folder / "dense.faiss").write_bytes((folder / "dense.faiss").read_bytes()[:100])
    elif damage == "edit-entries":
        (folder / "entries.json").write_text("[]", encoding="utf-8")
    elif damage == "delete-keyword":
        for file in (folder / "keyword").iterdir():
            file.unlink()
    else:
        (folder / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="navigator index build --full"):
        load_index(folder)
    # Opening rebuilds it in full rather than using it.
    state, report = open_index(folder, load_catalogue(sample_dir), embedder, processor)
    assert report is not None and report.full and "damaged" in report.reason
    assert load_index(folder).manifest.entry_count == len(SAMPLE)


def test_fresh_index_is_used_as_it_is(tmp_path, sample_dir, embedder, processor) -> None:
    catalogue = load_catalogue(sample_dir)
    open_index(tmp_path / "index", catalogue, embedder, processor)
    embedder.encoded.clear()
    state, report = open_index(tmp_path / "index", catalogue, embedder, processor)
    assert report is None and embedder.encoded == []
    assert index_is_fresh(tmp_path / "index", catalogue, embedder.name)


def test_changed_catalogue_is_updated_incrementally(tmp_path, embedder, processor) -> None:
    folder = tmp_path / "index"
    records = [dict(r) for r in SAMPLE]
    open_index(folder, load_catalogue(write_catalogue(tmp_path / "v1", records)), embedder, processor)

    records = [r for r in records if r["id"] != "closed-lab"]  # removed
    changed = next(r for r in records if r["id"] == "almi-loans")
    changed["description"] = "Almi lends money for zebrafish husbandry projects in small companies."
    records.append(entry("organoid-lab", name="Organoid lab", description="Organoids grown from stem cells.",
                         summary="Organoid culture."))  # added
    catalogue = load_catalogue(write_catalogue(tmp_path / "v2", records))
    assert not index_is_fresh(folder, catalogue, embedder.name)
    embedder.encoded.clear()

    state, report = open_index(folder, catalogue, embedder, processor)
    assert not report.full
    assert report.added == ["organoid-lab"] and report.changed == ["almi-loans"]
    assert report.removed == ["closed-lab"] and report.unchanged == len(SAMPLE) - 2
    documents = {d.entry.id: d for d in state.documents}
    assert len(embedder.encoded) == len(documents["organoid-lab"].passages) + len(documents["almi-loans"].passages)
    assert state.manifest.passage_count == sum(len(d.passages) for d in state.documents) == len(state.dense)

    assert search_ids(state, embedder, processor, "zebrafish husbandry", top=1) == ["almi-loans"]
    assert search_ids(state, embedder, processor, "organoids from stem cells", top=1) == ["organoid-lab"]
    assert "closed-lab" not in search_ids(state, embedder, processor, "genome sequencing internal", top=10)
    # The saved result is the same as a full build of the new catalogue.
    full, _ = build_index(catalogue, HashingEmbedder(), processor)
    for query in ["zebrafish", "flow cytometry sorting", "GMP vectors", "organoids"]:
        assert search_ids(load_index(folder), embedder, processor, query) == search_ids(full, embedder, processor, query)


def test_another_model_means_a_full_rebuild(tmp_path, sample_dir, processor) -> None:
    catalogue = load_catalogue(sample_dir)
    open_index(tmp_path / "index", catalogue, HashingEmbedder(name="model-a"), processor)
    other = HashingEmbedder(name="model-b")
    state, report = open_index(tmp_path / "index", catalogue, other, processor)
    assert report.full and "model-a" in report.reason
    assert state.manifest.model == "model-b"
    assert json.loads((tmp_path / "index" / "manifest.json").read_text())["model"] == "model-b"


def test_crossing_the_threshold_switches_to_ivf_without_reencoding(tmp_path, embedder, processor) -> None:
    options = BuildOptions(ann_threshold=60, nprobe=64)
    records = [entry(f"unit-{i:02d}", description=f"Unit {i} studies topic{i} with care.") for i in range(8)]
    records.append({**SAMPLE[-1], "serves": ["unit-00"]})
    folder = tmp_path / "index"
    state, _ = open_index(folder, load_catalogue(write_catalogue(tmp_path / "a", records)), embedder, processor,
                          options=options)
    assert state.dense.kind.value == "exact"
    records += [entry(f"more-{i:02d}", description=f"More {i} about subject{i}.") for i in range(12)]
    embedder.encoded.clear()
    state, report = open_index(folder, load_catalogue(write_catalogue(tmp_path / "b", records)), embedder, processor,
                               options=options)
    assert state.dense.kind.value == "ivf" and not report.full
    assert len(embedder.encoded) == report.passages_encoded == sum(
        len(d.passages) for d in state.documents if d.entry.id.startswith("more-"))
    assert search_ids(state, embedder, processor, "subject7", top=1) == ["more-07"]


def test_identical_passages_are_encoded_once(tmp_path, embedder, processor) -> None:
    same = {"name": "Twin", "summary": "Twins.", "summary_sv": "Tvillingar.",
            "description": "Shared text about organoids."}
    twins = [entry("twin-a", **same), entry("twin-b", **same),
             {**SAMPLE[-1], "serves": ["twin-a"]}]
    catalogue = load_catalogue(write_catalogue(tmp_path, twins))
    state, report = build_index(catalogue, embedder, processor)
    twin_passages = {d.entry.id: d.passages for d in state.documents}
    assert twin_passages["twin-a"] == twin_passages["twin-b"]
    assert len(embedder.encoded) == len(set(embedder.encoded)) == report.passages_encoded
    assert len(state.dense) == state.manifest.passage_count
    assert {h.entry.id for h in SearchEngine(state, embedder, processor).search("organoids", top=2)} == {"twin-a", "twin-b"}
