"""Request validation for the fake Telegram Bot API, driven by the published Bot API spec.

Rules of this module:

* The specification is read at run time from ``/work/shared/telegram/botapi-10.0.json`` (the
  version python-telegram-bot 22.8 targets), located relative to the repository root; the JSON
  is never copied into the project. When the file is absent, a small built-in table covering
  only the methods :mod:`tests.fakes.bot_api` emulates is used, so the fake keeps working.
* Validation never raises: every finding is a :class:`Problem` carrying the reason (for the
  violation list shown to the developer) and the description Telegram would answer with.
  ``Problem.rejected`` tells whether Telegram would refuse the request (HTTP 400) or silently
  ignore the mistake (unknown parameters or object fields).
* Values arriving as ``application/x-www-form-urlencoded`` or ``multipart/form-data`` are all
  strings (python-telegram-bot JSON-encodes every non-string value); :meth:`BotApiSpec.coerce`
  decodes them using the declared types before they are checked.
* Length limits come from the field descriptions ("1-4096 characters", "1-64 bytes"). Fields
  limited "after entities parsing" are measured on the text that remains after the parse mode
  (HTML, MarkdownV2, Markdown) has been applied; markup Telegram cannot parse is rejected with
  "can't parse entities", like the real server does.
* Pure functions and immutable data only: the module holds no state besides the cached spec.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SPEC_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "telegram"
SPEC_FILE = "botapi-10.0.json"

JSONDict = dict[str, Any]

# ---------------------------------------------------------------------------------------------
# data types


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart/form-data request."""

    field_name: str
    filename: str | None
    content_type: str | None
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class Problem:
    """One finding about a request.

    ``reason`` explains the mistake to a developer, ``description`` is what Telegram answers,
    ``rejected`` is False when Telegram would silently ignore the mistake.
    """

    reason: str
    description: str
    rejected: bool = True


_LIMIT_RE = re.compile(r"(\d+)-(\d+) (characters|bytes)")
_MUST_BE_RE = re.compile(r"must be \"?([a-z_]+)\"?")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    types: tuple[str, ...]
    required: bool
    description: str = ""

    @property
    def limit(self) -> tuple[int, int, str] | None:
        """(min, max, "characters" | "bytes") from the description, if it states one."""
        m = _LIMIT_RE.search(self.description)
        if m is None:
            return None
        return int(m.group(1)), int(m.group(2)), m.group(3)

    @property
    def after_entities_parsing(self) -> bool:
        return "after entities parsing" in self.description

    @property
    def required_without_inline_message_id(self) -> bool:
        return self.description.startswith("Required if inline_message_id is not specified")


@dataclass(frozen=True)
class MethodSpec:
    name: str
    fields: Mapping[str, FieldSpec]
    returns: tuple[str, ...]


@dataclass(frozen=True)
class TypeSpec:
    name: str
    fields: Mapping[str, FieldSpec]
    subtypes: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------------
# formatted text (parse modes)


class TextParseError(ValueError):
    """Telegram would answer "Bad Request: can't parse entities: <message>"."""


class UnsupportedParseModeError(ValueError):
    """Telegram would answer "Bad Request: unsupported parse_mode"."""


@dataclass(frozen=True)
class ParsedText:
    """Text after entity parsing, as Telegram stores it (offsets in UTF-16 code units)."""

    text: str
    entities: tuple[JSONDict, ...] = ()


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


HTML_TAGS: Mapping[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}

_TAG_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_ATTR_RE = re.compile(
    r"""([A-Za-z_:][-A-Za-z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?"""
)
_HTML_ENTITY_RE = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|(lt|gt|amp|quot));")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _decode_entity(m: re.Match[str]) -> str:
    if m.group(3):
        return _NAMED_ENTITIES[m.group(3)]
    code = int(m.group(1)) if m.group(1) else int(m.group(2), 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    return chr(code)


def _unescape_attr(value: str) -> str:
    return _HTML_ENTITY_RE.sub(_decode_entity, value)


@dataclass
class _OpenTag:
    name: str
    offset: int
    attrs: dict[str, str]
    language: str | None = None


def parse_html(text: str) -> ParsedText:
    """Parse Telegram-flavoured HTML like the Bot API server (tdlib) does.

    Only Telegram's tags are allowed, tags must be balanced and properly nested, a bare ``<``
    is an error; ``&`` that does not start one of the supported entities (&lt; &gt; &amp;
    &quot; and numeric ones) is kept literally, as Telegram does.
    """

    def byte_offset(pos: int) -> int:
        return len(text[:pos].encode("utf-8"))

    out: list[str] = []
    out_len = 0  # UTF-16 units
    stack: list[_OpenTag] = []
    entities: list[JSONDict] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "&":
            m = _HTML_ENTITY_RE.match(text, i)
            chunk = _decode_entity(m) if m else "&"
            out.append(chunk)
            out_len += utf16_len(chunk)
            i = m.end() if m else i + 1
            continue
        if c != "<":
            j = i
            while j < n and text[j] not in "<&":
                j += 1
            chunk = text[i:j]
            out.append(chunk)
            out_len += utf16_len(chunk)
            i = j
            continue
        closing = text.startswith("</", i)
        j = i + (2 if closing else 1)
        m = _TAG_NAME_RE.match(text, j)
        if m is None:
            if closing:
                raise TextParseError(f"Unexpected end tag at byte offset {byte_offset(i)}")
            raise TextParseError(f'Unsupported start tag "" at byte offset {byte_offset(i)}')
        name = m.group(0).lower()
        j = m.end()
        if closing:
            while j < n and text[j].isspace():
                j += 1
            if j >= n or text[j] != ">":
                raise TextParseError(f"Can't find end tag at byte offset {byte_offset(i)}")
            if not stack:
                raise TextParseError(f"Unexpected end tag at byte offset {byte_offset(i)}")
            top = stack[-1]
            if top.name != name:
                raise TextParseError(
                    f'Unmatched end tag at byte offset {byte_offset(i)}, expected "</{top.name}>",'
                    f' found "</{name}>"'
                )
            stack.pop()
            _close_tag(top, out_len, stack, entities)
            i = j + 1
            continue
        if name not in HTML_TAGS:
            raise TextParseError(f'Unsupported start tag "{name}" at byte offset {byte_offset(i)}')
        attrs: dict[str, str] = {}
        while True:
            while j < n and text[j].isspace():
                j += 1
            if j >= n:
                raise TextParseError(f"Unclosed start tag at byte offset {byte_offset(i)}")
            if text[j] == ">":
                break
            am = _ATTR_RE.match(text, j)
            if am is None:
                raise TextParseError(
                    f'Empty attribute name in the tag "{name}" at byte offset {byte_offset(i)}'
                )
            raw = am.group(2) if am.group(2) is not None else am.group(3)
            if raw is None:
                raw = am.group(4) if am.group(4) is not None else ""
            attrs[am.group(1).lower()] = _unescape_attr(raw)
            j = am.end()
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise TextParseError('Tag "span" must have class "tg-spoiler"')
        if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise TextParseError('Custom emoji entity must have a numeric "emoji-id" attribute')
        stack.append(_OpenTag(name, out_len, attrs))
        i = j + 1
    if stack:
        raise TextParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return _strip(ParsedText("".join(out), tuple(entities)))


def _close_tag(tag: _OpenTag, end: int, stack: list[_OpenTag], entities: list[JSONDict]) -> None:
    length = end - tag.offset
    kind = HTML_TAGS[tag.name]
    if tag.name == "code" and stack and stack[-1].name == "pre":
        cls = tag.attrs.get("class", "")
        if cls.startswith("language-") and stack[-1].offset == tag.offset:
            stack[-1].language = cls.removeprefix("language-")
            return
    if length <= 0:
        return
    entity: JSONDict = {"type": kind, "offset": tag.offset, "length": length}
    if tag.name == "a":
        href = tag.attrs.get("href", "")
        if not href:
            return
        entity["url"] = href
    elif tag.name == "pre" and tag.language:
        entity["language"] = tag.language
    elif tag.name == "tg-emoji":
        entity["custom_emoji_id"] = tag.attrs["emoji-id"]
    elif tag.name == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    entities.append(entity)


def _strip(parsed: ParsedText) -> ParsedText:
    """Telegram drops leading and trailing whitespace of message texts."""
    stripped = parsed.text.strip()
    if stripped == parsed.text:
        entities = parsed.entities
    else:
        lead = utf16_len(parsed.text[: len(parsed.text) - len(parsed.text.lstrip())])
        total = utf16_len(stripped)
        shifted: list[JSONDict] = []
        for e in parsed.entities:
            start = min(max(e["offset"] - lead, 0), total)
            end = min(max(e["offset"] + e["length"] - lead, 0), total)
            if end > start:
                shifted.append({**e, "offset": start, "length": end - start})
        entities = tuple(shifted)
    ordered = sorted(entities, key=lambda e: (e["offset"], -e["length"]))
    return ParsedText(stripped, tuple(ordered))


_MDV2_ALWAYS_RESERVED = frozenset("#+-={}.!()")
_MDV2_MARKERS = {
    "*": "Bold",
    "_": "Italic",
    "__": "Underline",
    "~": "Strikethrough",
    "||": "Spoiler",
}


def parse_markdown_v2(text: str) -> ParsedText:
    """Check MarkdownV2 like Telegram does and return the visible text (entities not computed).

    Characters ``_*[]()~`>#+-=|{}.!`` must be escaped with a backslash unless they are markup;
    inside code only ````` and ``\\`` must be. Unbalanced markup is an error.
    """

    def byte_offset(pos: int) -> int:
        return len(text[:pos].encode("utf-8"))

    out: list[str] = []
    open_markers: dict[str, int] = {}
    i, n = 0, len(text)
    in_code = in_pre = False
    line_start = True
    while i < n:
        c = text[i]
        at_line_start = line_start
        line_start = c == "\n"
        if c == "\\" and i + 1 < n and 0 < ord(text[i + 1]) < 127:
            out.append(text[i + 1])
            i += 2
            continue
        if in_pre:
            if text.startswith("```", i):
                in_pre = False
                i += 3
            else:
                out.append(c)
                i += 1
            continue
        if in_code:
            if c == "`":
                in_code = False
            else:
                out.append(c)
            i += 1
            continue
        if text.startswith("```", i):
            in_pre = True
            i += 3
            newline = text.find("\n", i)
            close = text.find("```", i)
            if newline != -1 and (close == -1 or newline < close):
                i = newline + 1  # the rest of the opening line is the language
            continue
        if c == "`":
            in_code = True
            i += 1
            continue
        if text.startswith("](", i):
            j = i + 2
            while j < n and text[j] != ")":
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                raise TextParseError(f"Can't find end of a URL at byte offset {byte_offset(i)}")
            i = j + 1
            continue
        if c in "[]":
            i += 1
            continue
        if c == ">" and at_line_start:
            i += 1
            continue
        marker = None
        for candidate in ("||", "__", "*", "_", "~"):
            if text.startswith(candidate, i):
                marker = candidate
                break
        if marker is not None:
            if marker in open_markers:
                del open_markers[marker]
            else:
                open_markers[marker] = i
            i += len(marker)
            continue
        if c in _MDV2_ALWAYS_RESERVED or c in ">|":
            if c == "!" and text.startswith("![", i):  # custom emoji ![👍](tg://emoji?id=...)
                i += 1
                continue
            raise TextParseError(
                f"Character '{c}' is reserved and must be escaped with the preceding '\\'"
            )
        out.append(c)
        i += 1
    if in_pre or in_code:
        kind = "Pre" if in_pre else "Code"
        raise TextParseError(f"Can't find end of {kind} entity")
    if open_markers:
        marker, pos = min(open_markers.items(), key=lambda kv: kv[1])
        raise TextParseError(
            f"Can't find end of {_MDV2_MARKERS[marker]} entity at byte offset {byte_offset(pos)}"
        )
    return _strip(ParsedText("".join(out)))


def parse_markdown(text: str) -> ParsedText:
    """Legacy Markdown: ``*bold*``, ``_italic_``, ```code```, ``[text](url)``; must balance."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.append(text[i + 1])
            i += 2
            continue
        if c in "*_`":
            close_at = text.find("```" if text.startswith("```", i) else c, i + 1)
            if close_at == -1:
                offset = len(text[:i].encode("utf-8"))
                raise TextParseError(
                    f"Can't find end of the entity starting at byte offset {offset}"
                )
            width = 3 if text.startswith("```", i) else 1
            out.append(text[i + width : close_at])
            i = close_at + width
            continue
        if c == "[":
            m = re.compile(r"\[([^\]]*)\]\(([^)]*)\)").match(text, i)
            if m:
                out.append(m.group(1))
                i = m.end()
                continue
        out.append(c)
        i += 1
    return _strip(ParsedText("".join(out)))


PARSE_MODES = ("HTML", "MarkdownV2", "Markdown")


def parse_text(text: str, parse_mode: str | None) -> ParsedText:
    """Apply a parse mode (case-insensitive, like the Bot API server)."""
    mode = (parse_mode or "").lower()
    if mode == "":
        return _strip(ParsedText(text))
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown(text)
    raise UnsupportedParseModeError(parse_mode)


# ---------------------------------------------------------------------------------------------
# the spec


CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

# Cosmetic button fields; every other optional field of a button is an action.
_BUTTON_COSMETIC = frozenset({"text", "icon_custom_emoji_id", "style"})

# (owner, field) -> (regex, what Telegram answers) for rules stated only in prose.
_PATTERNS: Mapping[tuple[str, str], tuple[re.Pattern[str], str]] = {
    ("BotCommand", "command"): (re.compile(r"[a-z0-9_]+"), "Bad Request: BOT_COMMAND_INVALID"),
    ("setWebhook", "secret_token"): (
        re.compile(r"[A-Za-z0-9_-]+"),
        "Bad Request: secret token contains unallowed characters",
    ),
    ("setMyCommands", "language_code"): (
        re.compile(r"([a-z]{2})?"),
        "Bad Request: invalid language code specified",
    ),
    ("getMyCommands", "language_code"): (
        re.compile(r"([a-z]{2})?"),
        "Bad Request: invalid language code specified",
    ),
    ("deleteMyCommands", "language_code"): (
        re.compile(r"([a-z]{2})?"),
        "Bad Request: invalid language code specified",
    ),
}


def _limit_description(owner: str, name: str, too_long: bool, path: str, limit: str) -> str:
    if name == "callback_data":
        return "Bad Request: BUTTON_DATA_INVALID"
    if name == "text" and owner in {"sendMessage", "editMessageText"}:
        return (
            "Bad Request: message is too long" if too_long else "Bad Request: message text is empty"
        )
    if name == "caption":
        return "Bad Request: message caption is too long"
    if owner == "answerCallbackQuery" and name == "text":
        return "Bad Request: MESSAGE_TOO_LONG"
    if owner == "BotCommand":
        if name == "command":
            return "Bad Request: BOT_COMMAND_INVALID"
        return (
            "Bad Request: command description is empty"
            if not too_long
            else ("Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        )
    return f'Bad Request: parameter "{path}" must be {limit} long'


class BotApiSpec:
    """The methods and types of one Bot API version, with request coercion and validation."""

    def __init__(
        self,
        methods: Mapping[str, MethodSpec],
        types: Mapping[str, TypeSpec],
        *,
        source: str,
        version: str,
    ) -> None:
        self.methods = dict(methods)
        self.types = dict(types)
        self.source = source
        self.version = version
        self._by_lower = {name.lower(): name for name in self.methods}

    def __repr__(self) -> str:
        return f"BotApiSpec({self.version!r}, source={self.source!r})"

    # -- lookup ---------------------------------------------------------------------------

    def canonical_method(self, name: str) -> str | None:
        """Method names are case-insensitive in the Bot API."""
        return self._by_lower.get(name.lower())

    def method(self, name: str) -> MethodSpec | None:
        canonical = self.canonical_method(name)
        return self.methods[canonical] if canonical else None

    # -- coercion -------------------------------------------------------------------------

    def coerce(self, method: str, raw: Mapping[str, Any]) -> JSONDict:
        """Decode string values (form-encoded requests) according to the declared types."""
        spec = self.method(method)
        out: JSONDict = {}
        for key, value in raw.items():
            f = spec.fields.get(key) if spec else None
            out[key] = _coerce(value, f.types if f else None)
        return out

    # -- validation -----------------------------------------------------------------------

    def validate(self, method: str, params: Mapping[str, Any]) -> list[Problem]:
        spec = self.method(method)
        if spec is None:
            return [Problem(f"unknown Bot API method {method!r}", "Not Found")]
        problems: list[Problem] = []
        for key in params:
            if key not in spec.fields:
                known = ", ".join(spec.fields) or "none"
                problems.append(
                    Problem(
                        f"unknown parameter {key!r} (the spec defines: {known})",
                        f'Bad Request: unknown parameter "{key}"',
                        rejected=False,
                    )
                )
        problems.extend(self._check_fields(spec.name, spec.fields, params, ""))
        action = params.get("action")
        if spec.name == "sendChatAction" and isinstance(action, str) and action not in CHAT_ACTIONS:
            problems.append(
                Problem(
                    f"action {action!r} is not one of {sorted(CHAT_ACTIONS)}",
                    "Bad Request: wrong parameter action in request",
                )
            )
        commands = params.get("commands")
        if spec.name == "setMyCommands" and isinstance(commands, list) and len(commands) > 100:
            problems.append(
                Problem("more than 100 commands", "Bad Request: too many commands specified")
            )
        return problems

    def _check_fields(
        self, owner: str, fields: Mapping[str, FieldSpec], obj: Mapping[str, Any], prefix: str
    ) -> list[Problem]:
        problems: list[Problem] = []
        for f in fields.values():
            path = f"{prefix}{f.name}"
            value = obj.get(f.name)
            if value is None:
                if f.required:
                    problems.append(
                        Problem(
                            f"required field {path!r} is missing",
                            f'Bad Request: parameter "{path}" is required',
                        )
                    )
                elif f.required_without_inline_message_id and obj.get("inline_message_id") is None:
                    problems.append(
                        Problem(
                            f"{path!r} is required when inline_message_id is not given",
                            f'Bad Request: parameter "{path}" is required',
                        )
                    )
                continue
            found = self._check_value(value, f.types, path)
            if not found:
                found = self._check_text_rules(owner, f, value, obj, fields, path)
            problems.extend(found)
        return problems

    def _check_text_rules(
        self,
        owner: str,
        f: FieldSpec,
        value: Any,
        obj: Mapping[str, Any],
        fields: Mapping[str, FieldSpec],
        path: str,
    ) -> list[Problem]:
        if not isinstance(value, str):
            return []
        if f.name == "parse_mode" or f.name.endswith("_parse_mode"):
            if value.lower() not in {"", *(m.lower() for m in PARSE_MODES)}:
                return [
                    Problem(
                        f"{path}={value!r} is not one of {PARSE_MODES}",
                        "Bad Request: unsupported parse_mode",
                    )
                ]
            return []
        limit = f.limit
        measured = value
        if f.after_entities_parsing:
            mode_field = f"{f.name}_parse_mode"
            if mode_field not in fields:
                mode_field = "parse_mode"
            mode = obj.get(mode_field)
            try:
                measured = parse_text(value, mode if isinstance(mode, str) else None).text
            except TextParseError as exc:
                return [
                    Problem(
                        f"{path} is not valid {mode}: {exc}",
                        f"Bad Request: can't parse entities: {exc}",
                    )
                ]
            except UnsupportedParseModeError:
                return []  # reported on the parse_mode field itself
        problems: list[Problem] = []
        if limit is not None:
            low, high, unit = limit
            size = len(measured.encode("utf-8")) if unit == "bytes" else len(measured)
            if not low <= size <= high:
                what = f"{size} {unit}" + (" after entity parsing" if measured != value else "")
                problems.append(
                    Problem(
                        f"{path} is {what} (allowed: {low}-{high} {unit})",
                        _limit_description(
                            owner, f.name, size > high, path, f"{low}-{high} {unit}"
                        ),
                    )
                )
        rule = _PATTERNS.get((owner, f.name))
        if rule is not None and not problems and not rule[0].fullmatch(value):
            problems.append(
                Problem(f"{path}={value!r} does not match {rule[0].pattern!r}", rule[1])
            )
        return problems

    def _check_value(self, value: Any, types: Sequence[str], path: str) -> list[Problem]:
        if len(types) == 1:
            return self._check_type(value, types[0], path)
        results = [self._check_type(value, t, path) for t in types]
        for result in results:
            if not result:
                return []
        return min(results, key=lambda r: (sum(p.rejected for p in r), len(r)))

    def _check_type(self, value: Any, type_name: str, path: str) -> list[Problem]:
        if type_name.startswith("Array of "):
            inner = type_name.removeprefix("Array of ")
            if not isinstance(value, list):
                return [_type_problem(path, type_name, value)]
            problems: list[Problem] = []
            for index, item in enumerate(value):
                problems.extend(self._check_type(item, inner, f"{path}[{index}]"))
            return problems
        ok: bool
        if type_name == "Integer":
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif type_name == "Float":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        elif type_name == "String":
            ok = isinstance(value, str)
        elif type_name == "Boolean":
            ok = isinstance(value, bool)
        elif type_name == "True":
            ok = value is True
        elif type_name == "InputFile":
            ok = isinstance(value, UploadedFile)
        elif type_name in self.types:
            return self._check_object(value, self.types[type_name], path)
        else:
            ok = True  # a type this (possibly built-in) table does not describe
        return [] if ok else [_type_problem(path, type_name, value)]

    def _check_object(self, value: Any, spec: TypeSpec, path: str) -> list[Problem]:
        if not isinstance(value, dict):
            return [_type_problem(path, spec.name, value)]
        if spec.subtypes:
            chosen = self._pick_subtype(spec, value)
            if chosen is None:
                return [
                    Problem(
                        f"{path} matches none of {', '.join(spec.subtypes)}",
                        f'Bad Request: can\'t parse "{path}": unsupported {spec.name} type',
                    )
                ]
            return self._check_object(value, chosen, path)
        problems: list[Problem] = [
            Problem(
                f"unknown field {path}.{key} (not in {spec.name})",
                f'Bad Request: unknown field "{path}.{key}"',
                rejected=False,
            )
            for key in value
            if key not in spec.fields
        ]
        problems.extend(self._check_fields(spec.name, spec.fields, value, f"{path}."))
        if spec.name == "InlineKeyboardButton":
            problems.extend(_check_inline_button(value, spec, path))
        elif spec.name == "KeyboardButton":
            problems.extend(_check_reply_button(value, spec, path))
        return problems

    def _pick_subtype(self, spec: TypeSpec, value: JSONDict) -> TypeSpec | None:
        candidates = [self.types[s] for s in spec.subtypes if s in self.types]
        for candidate in candidates:
            type_field = candidate.fields.get("type")
            if type_field is None:
                continue
            m = _MUST_BE_RE.search(type_field.description)
            if m and value.get("type") == m.group(1):
                return candidate
        if all("type" in c.fields for c in candidates):
            return None
        best = min(
            candidates,
            key=lambda c: len([p for p in self._check_object(value, c, "") if p.rejected]),
            default=None,
        )
        return best


def _type_problem(path: str, type_name: str, value: Any) -> Problem:
    got = type(value).__name__
    return Problem(
        f"{path} must be {type_name}, got {got} {_short(value)}",
        f'Bad Request: wrong type of parameter "{path}" (expected {type_name})',
    )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_inline_button(button: JSONDict, spec: TypeSpec, path: str) -> list[Problem]:
    problems: list[Problem] = []
    if isinstance(button.get("text"), str) and not button["text"].strip():
        problems.append(Problem(f"{path}.text is empty", "Bad Request: BUTTON_TEXT_INVALID"))
    actions = [k for k in spec.fields if k not in _BUTTON_COSMETIC and button.get(k) is not None]
    if len(actions) != 1:
        reason = (
            "has no action (url, callback_data, ...)"
            if not actions
            else f"has several actions {actions}"
        )
        description = (
            "Bad Request: can't parse inline keyboard button: "
            "Text buttons are unallowed in the inline keyboard"
            if not actions
            else "Bad Request: can't parse inline keyboard button: "
            "exactly one of the optional fields must be used"
        )
        problems.append(Problem(f"inline keyboard button {path} {reason}", description))
    url = button.get("url")
    if isinstance(url, str) and not _valid_button_url(url):
        problems.append(
            Problem(
                f"{path}.url {url!r} is not a URL Telegram accepts (http(s) with a public host,"
                " or tg://)",
                f"Bad Request: inline keyboard button URL '{url}' is invalid: Wrong HTTP URL",
            )
        )
    return problems


def _valid_button_url(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "tg":
        return bool(parts.netloc or parts.path)
    if parts.scheme not in {"http", "https"}:
        return False
    host = (parts.hostname or "").lower()
    return "." in host and host not in {"127.0.0.1", "0.0.0.0"}


def _check_reply_button(button: JSONDict, spec: TypeSpec, path: str) -> list[Problem]:
    problems: list[Problem] = []
    if isinstance(button.get("text"), str) and not button["text"].strip():
        problems.append(Problem(f"{path}.text is empty", "Bad Request: BUTTON_TEXT_INVALID"))
    actions = [k for k in spec.fields if k not in _BUTTON_COSMETIC and button.get(k) is not None]
    if len(actions) > 1:
        problems.append(
            Problem(
                f"keyboard button {path} has several optional fields {actions}",
                "Bad Request: can't parse keyboard button: at most one of the optional fields"
                " must be used",
            )
        )
    return problems


def _coerce(value: Any, types: Sequence[str] | None) -> Any:
    if not isinstance(value, str):
        return value
    if types is not None and all(t in {"String", "InputFile"} for t in types):
        return value
    try:
        parsed = json.loads(value)
    except ValueError:
        if types is not None and "Boolean" in types and value.lower() in {"true", "false"}:
            return value.lower() == "true"
        return value
    if isinstance(parsed, str):
        return value
    if types is None:
        return parsed
    if isinstance(parsed, bool):
        return parsed if "Boolean" in types or "True" in types or "String" not in types else value
    if isinstance(parsed, int) and ("Integer" in types or "Float" in types):
        return parsed
    if isinstance(parsed, float) and "Float" in types:
        return parsed
    if isinstance(parsed, list | dict) and any(
        t not in {"String", "Integer", "Float"} for t in types
    ):
        return parsed
    return value if "String" in types else parsed


# ---------------------------------------------------------------------------------------------
# loading


def _field_from_json(raw: Mapping[str, Any]) -> FieldSpec:
    return FieldSpec(
        name=str(raw["name"]),
        types=tuple(str(t) for t in raw.get("types", ())),
        required=bool(raw.get("required", False)),
        description=str(raw.get("description", "")),
    )


def _from_json(data: Mapping[str, Any], source: str) -> BotApiSpec:
    methods = {
        name: MethodSpec(
            name=name,
            fields={f["name"]: _field_from_json(f) for f in raw.get("fields", ())},
            returns=tuple(raw.get("returns", ())),
        )
        for name, raw in data["methods"].items()
    }
    types = {
        name: TypeSpec(
            name=name,
            fields={f["name"]: _field_from_json(f) for f in raw.get("fields", ())},
            subtypes=tuple(raw.get("subtypes", ())),
        )
        for name, raw in data["types"].items()
    }
    return BotApiSpec(methods, types, source=source, version=str(data.get("version", "?")))


# The fallback: only what the fake emulates. (name, "Type|Type", required, description)
_Row = tuple[str, str, bool, str]
_CHAT_ID: _Row = ("chat_id", "Integer|String", True, "")
_MARKUP = "InlineKeyboardMarkup|ReplyKeyboardMarkup|ReplyKeyboardRemove|ForceReply"
_EDIT_TARGET: tuple[_Row, ...] = (
    ("business_connection_id", "String", False, ""),
    ("chat_id", "Integer|String", False, "Required if inline_message_id is not specified."),
    ("message_id", "Integer", False, "Required if inline_message_id is not specified."),
    ("inline_message_id", "String", False, ""),
)
_SEND_COMMON: tuple[_Row, ...] = (
    ("business_connection_id", "String", False, ""),
    _CHAT_ID,
    ("message_thread_id", "Integer", False, ""),
    ("direct_messages_topic_id", "Integer", False, ""),
)
_SEND_TAIL: tuple[_Row, ...] = (
    ("disable_notification", "Boolean", False, ""),
    ("protect_content", "Boolean", False, ""),
    ("allow_paid_broadcast", "Boolean", False, ""),
    ("message_effect_id", "String", False, ""),
    ("suggested_post_parameters", "SuggestedPostParameters", False, ""),
    ("reply_parameters", "ReplyParameters", False, ""),
    ("reply_markup", _MARKUP, False, ""),
)
_SCOPE_LANG: tuple[_Row, ...] = (
    ("scope", "BotCommandScope", False, ""),
    ("language_code", "String", False, ""),
)
_BUILTIN_METHODS: Mapping[str, tuple[tuple[_Row, ...], str]] = {
    "getMe": ((), "User"),
    "logOut": ((), "Boolean"),
    "close": ((), "Boolean"),
    "getWebhookInfo": ((), "WebhookInfo"),
    "getUpdates": (
        (
            ("offset", "Integer", False, ""),
            ("limit", "Integer", False, ""),
            ("timeout", "Integer", False, ""),
            ("allowed_updates", "Array of String", False, ""),
        ),
        "Array of Update",
    ),
    "setWebhook": (
        (
            ("url", "String", True, ""),
            ("certificate", "InputFile", False, ""),
            ("ip_address", "String", False, ""),
            ("max_connections", "Integer", False, ""),
            ("allowed_updates", "Array of String", False, ""),
            ("drop_pending_updates", "Boolean", False, ""),
            ("secret_token", "String", False, "1-256 characters"),
        ),
        "Boolean",
    ),
    "deleteWebhook": ((("drop_pending_updates", "Boolean", False, ""),), "Boolean"),
    "sendMessage": (
        (
            *_SEND_COMMON,
            ("text", "String", True, "1-4096 characters after entities parsing"),
            ("parse_mode", "String", False, ""),
            ("entities", "Array of MessageEntity", False, ""),
            ("link_preview_options", "LinkPreviewOptions", False, ""),
            *_SEND_TAIL,
        ),
        "Message",
    ),
    "sendDocument": (
        (
            *_SEND_COMMON,
            ("document", "InputFile|String", True, ""),
            ("thumbnail", "InputFile|String", False, ""),
            ("caption", "String", False, "0-1024 characters after entities parsing"),
            ("parse_mode", "String", False, ""),
            ("caption_entities", "Array of MessageEntity", False, ""),
            ("disable_content_type_detection", "Boolean", False, ""),
            *_SEND_TAIL,
        ),
        "Message",
    ),
    "sendPhoto": (
        (
            *_SEND_COMMON,
            ("photo", "InputFile|String", True, ""),
            ("caption", "String", False, "0-1024 characters after entities parsing"),
            ("parse_mode", "String", False, ""),
            ("caption_entities", "Array of MessageEntity", False, ""),
            ("show_caption_above_media", "Boolean", False, ""),
            ("has_spoiler", "Boolean", False, ""),
            *_SEND_TAIL,
        ),
        "Message",
    ),
    "sendVoice": (
        (
            *_SEND_COMMON,
            ("voice", "InputFile|String", True, ""),
            ("caption", "String", False, "0-1024 characters after entities parsing"),
            ("parse_mode", "String", False, ""),
            ("caption_entities", "Array of MessageEntity", False, ""),
            ("duration", "Integer", False, ""),
            *_SEND_TAIL,
        ),
        "Message",
    ),
    "getFile": ((("file_id", "String", True, ""),), "File"),
    "editMessageText": (
        (
            *_EDIT_TARGET,
            ("text", "String", True, "1-4096 characters after entities parsing"),
            ("parse_mode", "String", False, ""),
            ("entities", "Array of MessageEntity", False, ""),
            ("link_preview_options", "LinkPreviewOptions", False, ""),
            ("reply_markup", "InlineKeyboardMarkup", False, ""),
        ),
        "Message|Boolean",
    ),
    "editMessageReplyMarkup": (
        (*_EDIT_TARGET, ("reply_markup", "InlineKeyboardMarkup", False, "")),
        "Message|Boolean",
    ),
    "deleteMessage": ((_CHAT_ID, ("message_id", "Integer", True, "")), "Boolean"),
    "answerCallbackQuery": (
        (
            ("callback_query_id", "String", True, ""),
            ("text", "String", False, "0-200 characters"),
            ("show_alert", "Boolean", False, ""),
            ("url", "String", False, ""),
            ("cache_time", "Integer", False, ""),
        ),
        "Boolean",
    ),
    "setMyCommands": ((("commands", "Array of BotCommand", True, ""), *_SCOPE_LANG), "Boolean"),
    "getMyCommands": (_SCOPE_LANG, "Array of BotCommand"),
    "deleteMyCommands": (_SCOPE_LANG, "Boolean"),
    "sendChatAction": (
        (
            ("business_connection_id", "String", False, ""),
            _CHAT_ID,
            ("message_thread_id", "Integer", False, ""),
            ("action", "String", True, ""),
        ),
        "Boolean",
    ),
}
_BUTTON_ACTIONS: tuple[_Row, ...] = (
    ("text", "String", True, ""),
    ("icon_custom_emoji_id", "String", False, ""),
    ("style", "String", False, ""),
)
_SCOPES = {
    "BotCommandScopeDefault": "default",
    "BotCommandScopeAllPrivateChats": "all_private_chats",
    "BotCommandScopeAllGroupChats": "all_group_chats",
    "BotCommandScopeAllChatAdministrators": "all_chat_administrators",
    "BotCommandScopeChat": "chat",
    "BotCommandScopeChatAdministrators": "chat_administrators",
    "BotCommandScopeChatMember": "chat_member",
}
_BUILTIN_TYPES: Mapping[str, tuple[_Row, ...]] = {
    "InlineKeyboardMarkup": (
        ("inline_keyboard", "Array of Array of InlineKeyboardButton", True, ""),
    ),
    "InlineKeyboardButton": (
        *_BUTTON_ACTIONS,
        ("url", "String", False, ""),
        ("callback_data", "String", False, "1-64 bytes"),
        ("web_app", "WebAppInfo", False, ""),
        ("login_url", "LoginUrl", False, ""),
        ("switch_inline_query", "String", False, ""),
        ("switch_inline_query_current_chat", "String", False, ""),
        ("switch_inline_query_chosen_chat", "SwitchInlineQueryChosenChat", False, ""),
        ("copy_text", "CopyTextButton", False, ""),
        ("callback_game", "CallbackGame", False, ""),
        ("pay", "Boolean", False, ""),
    ),
    "ReplyKeyboardMarkup": (
        ("keyboard", "Array of Array of KeyboardButton", True, ""),
        ("is_persistent", "Boolean", False, ""),
        ("resize_keyboard", "Boolean", False, ""),
        ("one_time_keyboard", "Boolean", False, ""),
        ("input_field_placeholder", "String", False, "1-64 characters"),
        ("selective", "Boolean", False, ""),
    ),
    "KeyboardButton": (
        *_BUTTON_ACTIONS,
        ("request_users", "KeyboardButtonRequestUsers", False, ""),
        ("request_chat", "KeyboardButtonRequestChat", False, ""),
        ("request_contact", "Boolean", False, ""),
        ("request_location", "Boolean", False, ""),
        ("request_poll", "KeyboardButtonPollType", False, ""),
        ("web_app", "WebAppInfo", False, ""),
    ),
    "ReplyKeyboardRemove": (
        ("remove_keyboard", "Boolean", True, ""),
        ("selective", "Boolean", False, ""),
    ),
    "ForceReply": (
        ("force_reply", "Boolean", True, ""),
        ("input_field_placeholder", "String", False, "1-64 characters"),
        ("selective", "Boolean", False, ""),
    ),
    "BotCommand": (
        ("command", "String", True, "1-32 characters"),
        ("description", "String", True, "1-256 characters"),
    ),
    **{
        name: (
            ("type", "String", True, f"Scope type, must be {kind}"),
            *((_CHAT_ID,) if kind.startswith("chat") else ()),
            *((("user_id", "Integer", True, ""),) if kind == "chat_member" else ()),
        )
        for name, kind in _SCOPES.items()
    },
}


def _rows(rows: Sequence[_Row]) -> dict[str, FieldSpec]:
    return {
        name: FieldSpec(name, tuple(types.split("|")), required, description)
        for name, types, required, description in rows
    }


def builtin_spec() -> BotApiSpec:
    """The fallback table (used when the JSON spec is not available)."""
    methods = {
        name: MethodSpec(name, _rows(rows), tuple(returns.split("|")))
        for name, (rows, returns) in _BUILTIN_METHODS.items()
    }
    types = {name: TypeSpec(name, _rows(rows)) for name, rows in _BUILTIN_TYPES.items()}
    types["BotCommandScope"] = TypeSpec("BotCommandScope", {}, tuple(_SCOPES))
    return BotApiSpec(methods, types, source="built-in table", version="built-in")


@functools.lru_cache(maxsize=8)
def load_spec(path: Path | None = None) -> BotApiSpec:
    """Load the Bot API spec (default: ``/work/shared/telegram/botapi-10.0.json``).

    Falls back to :func:`builtin_spec` when the file does not exist.
    """
    target = path if path is not None else SPEC_DIR / SPEC_FILE
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        return builtin_spec()
    return _from_json(json.loads(text), source=str(target.resolve()))
