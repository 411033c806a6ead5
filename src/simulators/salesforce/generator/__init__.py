"""Seeded generation of a company group: K orgs (business units) whose customers overlap, with hidden
purchase drivers and a ground-truth file to evaluate entity resolution and propensity models against."""

from simulators.salesforce.generator.company_group import GroupSpec, GroupSummary, generate_company_group
from simulators.salesforce.generator.ground_truth import GroundTruth, read_ground_truth
from simulators.salesforce.generator.sinks import CsvSink, MemorySink, RecordSink

__all__ = [
    "CsvSink",
    "GroundTruth",
    "GroupSpec",
    "GroupSummary",
    "MemorySink",
    "RecordSink",
    "generate_company_group",
    "read_ground_truth",
]
