"""Detection-as-code over the uniform event schema: the rule API, the bundled pack (detections/rules/),
the engine used live and for hunting, and the rule tests that run through the real normalizer."""

from detections.rule import Prefilter, Rule, RuleMeta, Threshold, rule

__all__ = ["Prefilter", "Rule", "RuleMeta", "Threshold", "rule"]
