"""The regeneration history as a small self-contained HTML page (``<clip>.regen.html``): each
attempt's changes with their causes, findings and score, and what changed from the attempt
before (findings lost, gained and moved, from ``vidlint.report.diff``). Everything shown is
escaped: prompts and paths are user text."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from vidlint.fileio import write_text_atomic
from vidlint.report.diff import diff_findings

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:4px 6px;
vertical-align:top;text-align:left}th{background:#f3f3f3}.pass{color:#1a7f37}.warn{color:#9a6700}
.fail,.failed,.exhausted{color:#cf222e}.passed,.salvaged{color:#1a7f37}code{font-size:12px}
ul{margin:0;padding-left:1.2em}.old{color:#888;text-decoration:line-through}
.lost{color:#1a7f37}.gained{color:#cf222e}.moved{color:#9a6700}
"""


def compared(attempt: dict[str, Any], previous: dict[str, Any] | None) -> str:
    """What changed from the previous checked attempt: score, findings lost, gained and moved."""
    if previous is None or attempt.get("verdict") is None:
        return ""
    change = diff_findings(previous.get("findings", []), attempt.get("findings", []))
    items = []
    if attempt.get("score") is not None and previous.get("score") is not None:
        items.append(
            f"<li>score {int(attempt['score']) - int(previous['score']):+d} "
            f"(vs #{escape(str(previous['attempt']))})</li>"
        )
    items += [
        f"<li class=lost>&minus; <code>{escape(m.code)}</code> {escape(m.span())}</li>"
        for m in change.lost
    ]
    items += [
        f"<li class=gained>+ <code>{escape(m.code)}</code> {escape(m.span())}</li>"
        for m in change.gained
    ]
    items += [
        f"<li class=moved>~ <code>{escape(b.code)}</code> {escape(a.span())} &rarr; "
        f"{escape(b.span())}</li>"
        for a, b in change.moved
    ]
    if change.unchanged:
        items.append(f"<li>{len(change.unchanged)} unchanged</li>")
    return f"<ul>{''.join(items)}</ul>"


def render(history: dict[str, Any]) -> str:
    rows = []
    previous = None
    for attempt in history["attempts"]:
        verdict = attempt.get("verdict") or ""
        changes = "".join(
            f"<li><b>{escape(str(c['rung']))}</b> <code>{escape(str(c['field']))}</code>: "
            f"<span class=old>{escape(_short(c.get('old')))}</span> &rarr; "
            f"{escape(_short(c.get('new')))} <i>(because {escape(', '.join(c['because']))})</i>"
            f"</li>"
            for c in attempt.get("changes", [])
            if c["field"] != "seed"
        )
        seed = next((c["new"] for c in attempt.get("changes", []) if c["field"] == "seed"), None)
        if seed is not None:
            changes = f"<li>seed {escape(str(seed))}</li>" + changes
        if attempt.get("trim"):
            changes = (
                f"<li>trim attempt {escape(str(attempt['trim']['trim_of']))} to its first "
                f"{escape(str(attempt['trim']['frames']))} frames</li>"
            )
        findings = "".join(
            f"<li><code>{escape(f['code'])}</code> {escape(str(f['start_frame']))}-"
            f"{escape(str(f['end_frame']))}: {escape(f['message'])}</li>"
            for f in attempt.get("findings", [])
        )
        lint = ", ".join(p["code"] for p in attempt.get("prompt_lint", []))
        rows.append(
            f"<tr><td>{attempt['attempt']}</td><td>{escape(attempt['kind'])}</td>"
            f"<td class={escape(attempt['status'])}>{escape(attempt['status'])}"
            f"{'<br>' + escape(attempt['error']) if attempt.get('error') else ''}</td>"
            f"<td class={escape(verdict)}>{escape(verdict)} "
            f"{escape(str(attempt.get('score') or ''))}"
            f"</td><td><ul>{changes}</ul>{'<br>prompt lint: ' + escape(lint) if lint else ''}"
            f"</td><td><ul>{findings}</ul></td><td>{compared(attempt, previous)}</td></tr>"
        )
        if attempt.get("verdict") is not None:
            previous = attempt
    status = str(history.get("status") or "")
    return (
        "<!doctype html><html><head><meta charset=utf-8>"
        f"<title>vidlint fix: {escape(str(history.get('clip')))}</title><style>{STYLE}</style>"
        f"</head><body><h1>Regeneration history</h1><p>{escape(str(history.get('clip')))} "
        f"&mdash; backend <code>{escape(str(history.get('backend')))}</code> &mdash; "
        f"<b class={escape(status)}>{escape(status)}</b>, final attempt "
        f"{escape(str(history.get('final_attempt')))}</p><table><tr><th>#</th><th>kind</th>"
        "<th>status</th><th>verdict</th><th>changes (and why)</th><th>findings</th>"
        "<th>against the attempt before</th></tr>" + "".join(rows) + "</table></body></html>\n"
    )


def write(history: dict[str, Any], path: Path) -> Path:
    return write_text_atomic(path, render(history))


def _short(value: Any, limit: int = 300) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[:limit] + "..."
