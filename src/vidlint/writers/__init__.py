"""Writers: one module per format, each a plain module with ``SUFFIX`` and
``write(report, path)``; a module may also offer ``write_batch(results, out_dir)`` for a whole
batch (e.g. an index). Registered here by format name; plugins use the entry point group
``vidlint.writers``."""

from vidlint.registry import Registry

WRITERS = Registry("writer", {
    "json": "vidlint.writers.json_report",
})

__all__ = ["WRITERS"]
