"""Evaluation: likelihood, an n-gram baseline, musical statistics, copy detection."""

from composer.core.evaluation.report import EvaluationError, evaluate, format_report

__all__ = ["EvaluationError", "evaluate", "format_report"]
