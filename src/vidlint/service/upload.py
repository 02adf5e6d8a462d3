"""The submission form, read as it streams in. File parts go straight into the upload folder
under names of our own and are counted as they arrive: a body over the limit is refused (413)
the moment it passes it, whether or not it declared a Content-Length, and nothing is spooled
anywhere else. Every malformed form is a 4xx with a reason."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from fastapi import HTTPException, Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from vidlint import crashpoints

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

MAX_FIELD_BYTES = 64 * 1024
MAX_PARTS = 32


@dataclass
class Form:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[Path, str]] = field(default_factory=dict)
    """Field name -> (where it was saved, the client's file name)."""

    def remove_files(self) -> None:
        for path, _ in self.files.values():
            path.unlink(missing_ok=True)


async def read_form(
    request: Request,
    folder: Path,
    stems: dict[str, str],
    suffixes: dict[str, frozenset[str]],
    max_file_bytes: int,
) -> Form:
    """Read a multipart (or URL-encoded) form. File field ``name`` is saved as
    ``folder/<stems[name]><suffix>``, its suffix one of ``suffixes[name]``; on any refusal the
    files written so far are removed."""
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    if kind == b"application/x-www-form-urlencoded":
        return await _read_urlencoded(request)
    if kind != b"multipart/form-data" or not options.get(b"boundary"):
        raise HTTPException(415, "send the job as multipart/form-data (or URL-encoded fields)")
    reader = _Multipart(folder, stems, suffixes, max_file_bytes)
    parser = MultipartParser(options[b"boundary"], reader.callbacks())
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except HTTPException:
        reader.abort()
        raise
    except (FormParserError, ClientDisconnect, ValueError) as exc:
        reader.abort()
        raise HTTPException(400, f"malformed multipart body ({type(exc).__name__})") from None
    return reader.finish()


async def _read_urlencoded(request: Request) -> Form:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FIELD_BYTES * MAX_PARTS:
            raise HTTPException(413, "form fields too large")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        raise HTTPException(400, "malformed URL-encoded form") from None
    return Form(fields=dict(pairs))


class _Multipart:
    def __init__(
        self,
        folder: Path,
        stems: dict[str, str],
        suffixes: dict[str, frozenset[str]],
        max_file_bytes: int,
    ) -> None:
        self.folder, self.stems, self.suffixes = folder, stems, suffixes
        self.max_file_bytes = max_file_bytes
        self.form = Form()
        self.parts = 0
        self._headers: dict[bytes, bytes] = {}
        self._name = b""
        self._value = b""
        self._field: str | None = None
        self._data = bytearray()
        self._file: tuple[str, Path, str, object] | None = None  # field, temp, name, handle
        self._size = 0
        self._partials: list[Path] = []

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.begin,
            "on_header_field": self.header_field,
            "on_header_value": self.header_value,
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.data,
            "on_part_end": self.end,
        }

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._name += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise HTTPException(400, f"too many form parts (at most {MAX_PARTS})")
        self._headers, self._field, self._file, self._size = {}, None, None, 0
        self._data = bytearray()

    def header_end(self) -> None:
        self._headers[self._name.lower()] = self._value
        self._name = self._value = b""

    def headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = _text(options.get(b"name", b""), "form field name")
        if not name:
            raise HTTPException(400, "a form part has no field name")
        if b"filename" not in options:
            self._field = name
            return
        if name not in self.stems:
            raise HTTPException(400, f"unexpected file field {name!r}")
        if name in self.form.files:
            raise HTTPException(400, f"more than one {name!r}")
        client = Path(_text(options[b"filename"], "file name").replace("\\", "/")).name
        client = client or name
        suffix = Path(client).suffix.lower()
        if suffix not in self.suffixes[name]:
            raise HTTPException(
                415,
                f"{client}: unsupported file type {suffix or '(none)'!r} "
                f"(expected one of {', '.join(sorted(self.suffixes[name]))})",
            )
        target = self.folder / f"{self.stems[name]}{suffix}"
        temp = target.with_name(f".{target.name}.part")
        self._partials.append(temp)
        self._file = (name, temp, client, open(temp, "wb"))  # noqa: SIM115 - closed in end()

    def data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._file is None:
            self._data += chunk
            if len(self._data) > MAX_FIELD_BYTES:
                raise HTTPException(413, f"form field {self._field!r} is over 64 KB")
            return
        self._size += len(chunk)
        if self._size > self.max_file_bytes:
            raise HTTPException(413, f"{self._file[2]}: larger than {self.max_file_bytes >> 20} MB")
        self._file[3].write(chunk)  # type: ignore[attr-defined]

    def end(self) -> None:
        if self._file is None:
            if self._field is not None and self._field not in self.form.fields:
                self.form.fields[self._field] = _text(bytes(self._data), f"field {self._field!r}")
            return
        name, temp, client, handle = self._file
        handle.close()  # type: ignore[attr-defined]
        self._file = None
        if self._size == 0:
            raise HTTPException(400, f"{client}: empty upload (0 bytes)")
        target = temp.with_name(temp.name[1 : -len(".part")])
        os.replace(temp, target)
        self._partials.remove(temp)
        self.form.files[name] = (target, client)
        crashpoints.reached(f"serve.upload-saved:{name}")

    def finish(self) -> Form:
        if self._file is not None or self._partials:
            self.abort()
            raise HTTPException(400, "the multipart body ended inside a part")
        return self.form

    def abort(self) -> None:
        if self._file is not None:
            self._file[3].close()  # type: ignore[attr-defined]
        for temp in self._partials:
            temp.unlink(missing_ok=True)
        self.form.remove_files()


def _text(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(400, f"{what} is not UTF-8") from None
