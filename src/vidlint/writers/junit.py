"""JUnit XML for CI test reports (Jenkins, GitLab, GitHub test reporters): one test case per
clip. A clip that fails (any error finding) has one ``<failure>`` per error finding; warnings and
notes go to the case's ``<system-out>``, so the test fails exactly when vidlint's exit code says
the clip fails. A batch also gets ``junit.xml`` with every clip, and an ``<error>`` case for each
clip that could not be checked."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from vidlint.fileio import write_bytes_atomic
from vidlint.report.model import Finding, Report

SUFFIX = ".junit.xml"
BATCH_NAME = "junit.xml"
SUITE = "vidlint"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text: Any) -> str:
    """Text XML 1.0 can hold (control characters dropped)."""
    return _NOT_XML.sub("", str(text))


def span(finding: Finding) -> str:
    frames = (
        f"frame {finding.start_frame}"
        if finding.start_frame == finding.end_frame
        else f"frames {finding.start_frame}-{finding.end_frame}"
    )
    return f"{frames}, {finding.start_s:.2f}-{finding.end_s:.2f} s"


def finding_line(finding: Finding) -> str:
    return (
        f"{finding.code} {finding.name} [{finding.severity}] {finding.message} "
        f"({span(finding)}, confidence {finding.confidence:.2f})"
    )


def testcase(report: Report) -> ET.Element:
    path = xml_text(report.clip["path"])
    case = ET.Element(
        "testcase",
        {
            "classname": SUITE,
            "name": path,
            "file": path,
            "time": f"{float(report.timings.get('total_s', 0.0)):.3f}",
        },
    )
    for finding in report.findings:
        if finding.severity != "error":
            continue
        failure = ET.SubElement(
            case,
            "failure",
            {"type": finding.code, "message": xml_text(f"{finding.code} {finding.message}")},
        )
        evidence = ", ".join(f"{k}={v}" for k, v in finding.to_dict()["evidence"].items())
        failure.text = xml_text(f"{finding_line(finding)}\nevidence: {evidence}")
    for error in report.errors:
        if error.get("fatal"):
            ET.SubElement(case, "error", {"message": xml_text(error.get("message", ""))})
    others = [finding_line(f) for f in report.findings if f.severity != "error"]
    lines = [f"verdict {report.verdict}, score {report.score}", *others]
    ET.SubElement(case, "system-out").text = xml_text("\n".join(lines))
    return case


def error_case(path: str, message: str) -> ET.Element:
    case = ET.Element(
        "testcase",
        {"classname": SUITE, "name": xml_text(path), "file": xml_text(path), "time": "0.000"},
    )
    ET.SubElement(case, "error", {"message": xml_text(message)})
    return case


def document(cases: list[ET.Element]) -> bytes:
    """``<testsuites>`` with one ``<testsuite>`` holding ``cases``, with the counts CI reads."""
    failures = sum(1 for c in cases if c.find("failure") is not None)
    errors = sum(1 for c in cases if c.find("error") is not None)
    seconds = sum(float(c.get("time", 0.0)) for c in cases)
    counts = {
        "tests": str(len(cases)),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": "0",
        "time": f"{seconds:.3f}",
    }
    root = ET.Element("testsuites", {"name": SUITE, **counts})
    suite = ET.SubElement(root, "testsuite", {"name": SUITE, **counts})
    suite.extend(cases)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def write(report: Report, path: Path) -> Path:
    return write_bytes_atomic(path, document([testcase(report)]))


def write_batch(result: Any, out_dir: Path) -> Path:
    """``junit.xml`` for the batch, from the per-clip files it wrote plus its error rows."""
    cases = []
    for outcome in result.outcomes:
        written = outcome.reports.get("junit")
        if outcome.error:
            cases.append(error_case(outcome.path, outcome.error))
        elif written and Path(written).is_file():
            cases.extend(ET.parse(written).getroot().iter("testcase"))
    return write_bytes_atomic(Path(out_dir) / BATCH_NAME, document(cases))
