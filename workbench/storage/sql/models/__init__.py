"""Typed SQLAlchemy models by aggregate (and the union of each aggregate's rows). Importing this package registers
every table on `Base.metadata`; Alembic migrations in db/ mirror these."""

from workbench.storage.sql.models.base import NAMING_CONVENTION, Base, UTCDateTime
from workbench.storage.sql.models.conversations import (
    ConversationRow,
    FeedbackRow,
    MessageRow,
)
from workbench.storage.sql.models.evaluation import (
    EvalDatasetRow,
    EvalDatasetVersionRow,
    EvalItemRow,
    EvalResultRow,
    EvalRunRow,
    EvalScoreRow,
    EvalSummaryRow,
    EvaluationRow,
)
from workbench.storage.sql.models.identity import DatabaseIdentityRow
from workbench.storage.sql.models.knowledge_bases import (
    KbDocumentRow,
    KnowledgeBaseRow,
)
from workbench.storage.sql.models.labelling import (
    AdjudicationRow,
    GoldenDatasetRow,
    GoldenItemRow,
    LabelAssignmentRow,
    LabelItemRow,
    LabellingRow,
    LabelQueueMemberRow,
    LabelQueueRow,
    LabelRow,
    RubricRow,
    RubricVersionRow,
)
from workbench.storage.sql.models.playground import (
    PlaygroundCellRow,
    PlaygroundInputRow,
    PlaygroundRunRow,
    PlaygroundVariantRow,
)
from workbench.storage.sql.models.prompts import (
    PromptLabelRow,
    PromptVersionRow,
)
from workbench.storage.sql.models.users import (
    ApiKeyRow,
    UserRow,
)

__all__ = [
    "NAMING_CONVENTION",
    "AdjudicationRow",
    "ApiKeyRow",
    "Base",
    "ConversationRow",
    "DatabaseIdentityRow",
    "EvalDatasetRow",
    "EvalDatasetVersionRow",
    "EvalItemRow",
    "EvalResultRow",
    "EvalRunRow",
    "EvalScoreRow",
    "EvalSummaryRow",
    "EvaluationRow",
    "FeedbackRow",
    "GoldenDatasetRow",
    "GoldenItemRow",
    "KbDocumentRow",
    "KnowledgeBaseRow",
    "LabelAssignmentRow",
    "LabelItemRow",
    "LabelQueueMemberRow",
    "LabelQueueRow",
    "LabelRow",
    "LabellingRow",
    "MessageRow",
    "PlaygroundCellRow",
    "PlaygroundInputRow",
    "PlaygroundRunRow",
    "PlaygroundVariantRow",
    "PromptLabelRow",
    "PromptVersionRow",
    "RubricRow",
    "RubricVersionRow",
    "UTCDateTime",
    "UserRow",
]
