"""The insights app's models: value metrics and tiers, the value scorecard and key account
designation, account types with their service strategies, and the area's settings."""

from .metrics import AccountMetric, MetricScope, TierChange, TierOverride
from .scorecard import (
    AccountScore,
    KeyAccount,
    KeyAccountChange,
    QualitativeCriterion,
    QualitativeScore,
    Scorecard,
    ScorecardCriterion,
)
from .settings import InsightsSettings
from .types import AccountTypeAssessment, ServiceStrategy

__all__ = [
    "AccountMetric",
    "AccountScore",
    "AccountTypeAssessment",
    "InsightsSettings",
    "KeyAccount",
    "KeyAccountChange",
    "MetricScope",
    "QualitativeCriterion",
    "QualitativeScore",
    "Scorecard",
    "ScorecardCriterion",
    "ServiceStrategy",
    "TierChange",
    "TierOverride",
]
