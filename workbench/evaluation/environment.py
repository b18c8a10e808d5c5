"""The versions of the libraries an eval run depends on, recorded with the run so a result can be reproduced."""

from __future__ import annotations

import platform
import sys
from datetime import datetime
from importlib import metadata
from typing import Any

# What changes a score when its version changes: the metric implementations, the retrieval stack, the runtime.
LIBRARIES = (
    "genai-workbench", "ragas", "rapidfuzz", "sacrebleu", "rouge-score", "numpy", "scipy", "llama-index-core",
    "chromadb", "onnxruntime", "xllamacpp", "openai", "instructor",
)  # fmt: skip


def library_versions() -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"python": sys.version.split()[0], "platform": platform.platform(terse=True), "libraries": versions}


def resumed_environment(environment: dict[str, Any], at: datetime) -> dict[str, Any] | None:
    """The environment of a run resumed now, when its library versions changed since it last ran (None when not):
    its items were then not all scored by the same code. `libraries` becomes what the rest of the run uses;
    `resumed_with` keeps what each resume changed."""
    now = library_versions()
    before = environment.get("libraries", {})
    changed = {name: [before.get(name), version] for name, version in now["libraries"].items()
               if before and before.get(name) != version}  # fmt: skip
    if not changed:
        return None
    resumes = [*environment.get("resumed_with", []), {"at": at.isoformat(), "changed": changed}]
    return {**environment, "libraries": now["libraries"], "resumed_with": resumes}
