"""Writers: one module per format, each a plain module with ``SUFFIX`` and
``write(report, path)``, which returns the path it wrote (a file or a folder) or ``None`` when
the format has nothing for this clip (a contact sheet of a clip that passes); a module may also
offer ``write_batch(results, out_dir)`` for a whole
batch (e.g. an index). A writer that shows frames of the clip offers ``wanted_frames(report)``
(frame indices and the longer side they are wanted at, None for full size; or a list of such
pairs) and takes ``write(report, path, frames=store)``:
``batch.write_reports`` hands all such writers one :class:`~vidlint.decode.grab.FrameStore`, so
the clip is decoded once for all of them. A writer with ``LINKS_INDEX = True`` also takes
``index=True`` when a batch writes it (the HTML page then links to ``index.html``). Registered
here by format name; plugins use the entry point group ``vidlint.writers``."""

from vidlint.registry import Registry

WRITERS = Registry(
    "writer",
    {
        "json": "vidlint.writers.json_report",
        "html": "vidlint.writers.html",
        "csv": "vidlint.writers.csv",
        "junit": "vidlint.writers.junit",
        "github": "vidlint.writers.github",
        "otio": "vidlint.writers.otio",
        "fcpxml": "vidlint.writers.fcpxml",
        "edl": "vidlint.writers.edl",
        "contact-sheet": "vidlint.writers.contact_sheet",
        "frames": "vidlint.writers.frames",
    },
)

__all__ = ["WRITERS"]
