"""Python reference client of the config centre: signed configuration for worker services.

    from config_client import ConfigClient, options_from_env

    client = ConfigClient(options_from_env()).start()
    while True:
        with client.run() as run:          # one run, one version; its outcome goes into health
            work(run.config)

See clients/python/README.md for the environment, the rules and the file formats.
"""

from .client import ClientOptions, ConfigClient, ConfigClientError, ConfigSnapshot, deep_freeze, thaw
from .envelope import (
    MAX_ENVELOPE_BYTES,
    REJECTION_REASONS,
    Accepted,
    Archived,
    BehindCandidate,
    CandidateRollout,
    Duplicate,
    EnvelopeVerifier,
    NoCandidate,
    NotTargeted,
    Pending,
    Rejected,
    SchemaAccepted,
    SchemaRejected,
    SignedSchema,
    SignedSchemaStore,
)
from .environment import ConfigEnvironmentError, default_instance_id, options_from_env
from .lkg import LastKnownGoodStore
from .schema import Issue, ValidationResult, validate_config
from .secrets import SealedSecretError, open_sealed_secret
from .service_schema import ServiceDefinition, check_service_schema, schema_hash_of

__all__ = [
    "Accepted",
    "Archived",
    "BehindCandidate",
    "CandidateRollout",
    "ClientOptions",
    "ConfigClient",
    "ConfigClientError",
    "ConfigEnvironmentError",
    "ConfigSnapshot",
    "Duplicate",
    "EnvelopeVerifier",
    "Issue",
    "LastKnownGoodStore",
    "MAX_ENVELOPE_BYTES",
    "NoCandidate",
    "NotTargeted",
    "Pending",
    "REJECTION_REASONS",
    "Rejected",
    "SchemaAccepted",
    "SchemaRejected",
    "SealedSecretError",
    "ServiceDefinition",
    "SignedSchema",
    "SignedSchemaStore",
    "ValidationResult",
    "check_service_schema",
    "deep_freeze",
    "default_instance_id",
    "open_sealed_secret",
    "options_from_env",
    "schema_hash_of",
    "thaw",
    "validate_config",
]
