"""Model providers: configured models, packaged local weights, the llama.cpp runtime, streaming with metrics.

Importing this package is cheap: LlamaIndex integrations and xllamacpp are imported when a model is first built.
"""

from workbench.config.llm import PROVIDERS, LLMSettings, ModelSpec, Provider
from workbench.llm.catalog import ModelCatalog
from workbench.llm.errors import (
    FailureKind,
    ModelNotConfigured,
    ProviderError,
    ProviderTimeout,
    WeightsCorrupt,
    WeightsError,
    WeightsMissing,
)
from workbench.llm.local_runtime import LocalLlamaServer
from workbench.llm.messages import Message, Role, prompt_messages
from workbench.llm.providers import LLMRuntime
from workbench.llm.streaming import ChatStream, cost_usd, stream_chat
from workbench.llm.weights import PACKAGED_MODELS, ModelWeights

__all__ = [
    "PACKAGED_MODELS",
    "PROVIDERS",
    "ChatStream",
    "FailureKind",
    "LLMRuntime",
    "LLMSettings",
    "LocalLlamaServer",
    "Message",
    "ModelCatalog",
    "ModelNotConfigured",
    "ModelSpec",
    "ModelWeights",
    "Provider",
    "ProviderError",
    "ProviderTimeout",
    "Role",
    "WeightsCorrupt",
    "WeightsError",
    "WeightsMissing",
    "cost_usd",
    "prompt_messages",
    "stream_chat",
]
