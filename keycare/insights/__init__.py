"""Insights (客户价值洞察): who the key accounts are and why — per-account value metrics,
Pareto/ABC, the customer pyramid, the value scorecard, account types, concentration risk and
predictive customer value (CLV)."""
