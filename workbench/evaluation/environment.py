"""The versions of the libraries an eval run depends on, recorded with the run so a result can be reproduced."""

from __future__ import annotations

import platform
import sys
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
