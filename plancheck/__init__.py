"""plancheck: first-pass review of police protective-services improvement plans.

Reads a plan (PDF, Word, text), finds each protective-service area, judges whether each is
planned in sufficient detail, and explains every flag with the rubric's criteria and evidence.
"""
__version__ = "0.1.0"

__all__ = ["__version__"]
