"""Configuration: TOML file + ``INFRA_MONITOR_<SECTION>__<KEY>`` environment overrides, validated by pydantic.

Precedence (lowest first): embedded defaults, the TOML file (``--config PATH`` or ``INFRA_MONITOR_CONFIG``),
environment variables. Any unknown key, wrong type or impossible value raises :class:`ConfigError`, whose
message names the file, the key and what is allowed; the CLI turns it into exit code 2.

:mod:`.sections` holds the validated sections (one model per ``[section]``, ``[probes.<kind>]`` built from the
probe registry); :mod:`.loader` reads the file and the environment, decrypts ``enc:`` values and masks secrets
in error messages.
"""

from infra_monitor.config.loader import MASK, SECRET_KEYS, env_names, load_settings
from infra_monitor.config.sections import (
    ENV_CONFIG,
    ENV_NOT_KEYS,
    ENV_PREFIX,
    ConfigError,
    DatabaseConfig,
    EmailChannel,
    GeneralConfig,
    LoggingConfig,
    NotificationsConfig,
    PollerConfig,
    ProbesConfig,
    ReportSchedule,
    ReportsConfig,
    RetentionConfig,
    SecurityConfig,
    Settings,
    StatusConfig,
    WebConfig,
    WebhookChannel,
    probes_model,
)

__all__ = ["ENV_CONFIG", "ENV_NOT_KEYS", "ENV_PREFIX", "MASK", "SECRET_KEYS", "ConfigError", "DatabaseConfig",
           "EmailChannel", "GeneralConfig", "LoggingConfig", "NotificationsConfig", "PollerConfig", "ProbesConfig",
           "ReportSchedule", "ReportsConfig", "RetentionConfig", "SecurityConfig", "Settings", "StatusConfig",
           "WebConfig", "WebhookChannel", "env_names", "load_settings", "probes_model"]
