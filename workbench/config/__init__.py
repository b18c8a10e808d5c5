"""Configuration: one Settings object built from YAML profiles, .env and WORKBENCH_* variables."""

from workbench.config.settings import PLACEHOLDER_SECRETS, Settings, get_settings

__all__ = ["PLACEHOLDER_SECRETS", "Settings", "get_settings"]
