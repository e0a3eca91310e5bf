"""Encryption at rest: the keyring, the token format, settings, and key rotation."""

from __future__ import annotations

import base64
import re
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import SettingsError, load_settings
from flows.ids import FlowId, PersonId, StepId
from flows.session import Session
from storage.codec import session_from_row, session_to_row
from storage.crypto import CryptoError, Keyring, key_id_of, unseal
from storage.migrate import upgrade
from storage.rotation import encrypted_columns, rotate
from storage.sql import open_storage
from tests.privacy.conftest import ANNA, CANARY, T0


def test_a_round_trip_keeps_any_text(keyring: Keyring) -> None:
    for text in ("", CANARY, "Ik ben 23 🙂", "عمري ٢٣", "Мені 23", "x" * 5000):
        token = keyring.encrypt(text, "sessions.answers")
        assert token.startswith("enc:v1:test1:")
        assert CANARY not in token or text != CANARY
        assert keyring.decrypt(token, "sessions.answers") == text


def test_every_encryption_is_different(keyring: Keyring) -> None:
    assert keyring.encrypt(CANARY, "a.b") != keyring.encrypt(CANARY, "a.b")


def test_short_values_do_not_give_away_their_length(keyring: Keyring) -> None:
    # "help_work" and "help_addiction" would tell apart by length without padding.
    assert len(keyring.encrypt("help_work", "sessions.step")) == len(
        keyring.encrypt("help_addiction", "sessions.step")
    )


def test_a_value_moved_to_another_column_does_not_decrypt(keyring: Keyring) -> None:
    token = keyring.encrypt(CANARY, "sessions.answers")
    with pytest.raises(CryptoError, match=r"sessions\.history: the value does not decrypt"):
        keyring.decrypt(token, "sessions.history")


def test_a_tampered_value_does_not_decrypt(keyring: Keyring) -> None:
    token = keyring.encrypt(CANARY, "sessions.answers")
    head, body = token.rsplit(":", 1)
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[-1] ^= 0x01
    tampered = head + ":" + base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    with pytest.raises(CryptoError, match="tampered"):
        keyring.decrypt(tampered, "sessions.answers")
    with pytest.raises(CryptoError, match="damaged"):
        keyring.decrypt(head + ":AAAA", "sessions.answers")


def test_an_unknown_key_id_says_what_to_do(keyring: Keyring) -> None:
    other = Keyring.parse(Keyring.generate("old0"))
    token = other.encrypt(CANARY, "sessions.answers")
    with pytest.raises(CryptoError) as caught:
        keyring.decrypt(token, "sessions.answers")
    message = str(caught.value)
    assert "key id 'old0'" in message and "opstap keys rotate" in message
    assert "\n" not in message


def test_plaintext_from_before_encryption_is_read_as_is(keyring: Keyring) -> None:
    assert keyring.decrypt('{"name":"Anna"}', "sessions.answers") == '{"name":"Anna"}'
    assert unseal(None, "plain", "x.y") == "plain"
    with pytest.raises(CryptoError, match="no key is configured"):
        unseal(None, keyring.encrypt("x", "x.y"), "x.y")


def test_parse_several_keys_first_is_active() -> None:
    first, second = Keyring.generate("new"), Keyring.generate("old")
    keyring = Keyring.parse(f"{first}, {second}")
    assert keyring.active == "new"
    assert set(keyring.keys) == {"new", "old"}
    old_token = Keyring.parse(second).encrypt(CANARY, "a.b")
    assert keyring.decrypt(old_token, "a.b") == CANARY
    assert key_id_of(keyring.encrypt(CANARY, "a.b")) == "new"
    # Neither repr nor str shows key material.
    secret = first.split(":", 1)[1]
    assert secret not in repr(keyring) and secret not in str(keyring)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "expected kid:key"),
        ("dev1", "expected kid:key where kid"),
        ("dev1:!!!", "not urlsafe base64"),
        ("dev1:" + base64.urlsafe_b64encode(b"short").decode(), "must be 32 bytes (it is 5)"),
        ("a:" + "A" * 43 + ",a:" + "B" * 43, "appears twice"),
        ("bad kid:" + "A" * 43, "expected kid:key where kid"),
        ("k1:" + "A" * 43 + ",", "expected kid:key"),
    ],
)
def test_bad_keys_are_refused_in_one_line(text: str, expected: str) -> None:
    with pytest.raises(ValueError, match=re.escape(expected)) as caught:
        Keyring.parse(text)
    assert "\n" not in str(caught.value)
    assert "A" * 20 not in str(caught.value)


def test_settings_parse_the_key_and_refuse_a_bad_one() -> None:
    entry = Keyring.generate("dev1")
    settings = load_settings({"OPSTAP_SECRET_KEY": entry}, env_file=None)
    assert settings.keyring is not None and settings.keyring.active == "dev1"
    assert entry.split(":", 1)[1] not in repr(settings)
    with pytest.raises(SettingsError, match=r"^OPSTAP_SECRET_KEY: key 'dev1' must be 32 bytes"):
        load_settings({"OPSTAP_SECRET_KEY": "dev1:AAAA"}, env_file=None)
    with pytest.raises(SettingsError, match="required in production"):
        load_settings({"OPSTAP_ENV": "production"}, env_file=None)


def test_the_dev_key_make_run_writes_is_accepted(tmp_path: Path) -> None:
    from bot.devkey import ensure_dev_key

    env = tmp_path / ".env"
    assert ensure_dev_key(env)
    assert not ensure_dev_key(env)  # written once, never replaced
    settings = load_settings({}, env_file=env)
    assert settings.keyring is not None and settings.keyring.active == "dev1"


def session_with(answer: str) -> Session:
    return Session(
        person=ANNA,
        flow=FlowId("intake"),
        step=StepId("help_addiction"),
        language="nl",
        started_at=T0,
        updated_at=T0,
        answers={"own_words": answer},
        history=(StepId("domain_addiction"),),
        return_to=StepId("summary"),
        interrupted=StepId("help_addiction"),
    )


def test_the_codec_encrypts_every_revealing_session_column(keyring: Keyring) -> None:
    row = session_to_row(session_with(CANARY), keyring)
    for column in ("step", "answers", "history", "return_to", "interrupted"):
        assert row[column].startswith("enc:v1:"), column
    assert "addiction" not in repr(row) and CANARY not in repr(row)
    assert session_from_row(row, keyring) == session_with(CANARY)
    # Without a keyring (tests, development without a key) the row is plaintext.
    assert session_to_row(session_with(CANARY))["answers"] == f'{{"own_words":"{CANARY}"}}'


async def test_rotation_re_encrypts_everything_under_the_active_key(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'opstap.db'}"
    await upgrade(url)
    old_entry, new_entry = Keyring.generate("old"), Keyring.generate("new")
    plain = await open_storage(url)  # a row from before encryption was switched on
    async with plain.transaction() as tx:
        await tx.sessions.save(session_with("plain " + CANARY), expected_version=None)
    await plain.close()
    storage = await open_storage(url, Keyring.parse(old_entry))
    async with storage.transaction() as tx:
        for n in range(5):
            other = replace(session_with(CANARY), person=PersonId(f"web:p{n}"))
            await tx.sessions.save(other, expected_version=None)
    await storage.close()

    both = Keyring.parse(f"{new_entry},{old_entry}")
    report = await rotate(url, both, batch=2)
    # Six sessions, five encrypted columns each, all rewritten under "new".
    assert report.checked == 30
    assert report.total_rewritten == 30
    assert report.rewritten["sessions.answers"] == 6

    with sqlite3.connect(tmp_path / "opstap.db") as db:
        stored = [
            value
            for row in db.execute(
                "SELECT step, answers, history, return_to, interrupted FROM sessions"
            )
            for value in row
        ]
    assert all(key_id_of(value) == "new" for value in stored)
    assert not any(CANARY in value for value in stored)

    storage = await open_storage(url, Keyring.parse(new_entry))
    async with storage.transaction() as tx:
        loaded = await tx.sessions.get(ANNA)
    await storage.close()
    assert loaded is not None and loaded.answers == {"own_words": "plain " + CANARY}

    again = await rotate(url, both)
    assert (again.checked, again.total_rewritten) == (30, 0)


def test_rotation_finds_the_encrypted_columns_by_type() -> None:
    found = {f"{t.name}.{c.name}" for t, cols in encrypted_columns() for c in cols}
    assert {
        "sessions.step",
        "sessions.answers",
        "sessions.history",
        "sessions.return_to",
        "sessions.interrupted",
    } <= found


def test_keys_new_prints_a_fresh_entry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "new", "k2"]) == 0
    entry = capsys.readouterr().out.strip()
    assert Keyring.parse(entry).active == "k2"


def test_keys_rotate_needs_a_key(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.delenv("OPSTAP_SECRET_KEY", raising=False)
    monkeypatch.setenv("OPSTAP_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    assert main(["keys", "rotate"]) == 2
    assert "OPSTAP_SECRET_KEY: needed to rotate keys" in capsys.readouterr().err


def test_keys_rotate_on_the_command_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPSTAP_SECRET_KEY", Keyring.generate("cli1"))
    monkeypatch.setenv("OPSTAP_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    assert main(["keys", "rotate"]) == 0
    err = capsys.readouterr().err
    assert "re-encrypted 0 under key 'cli1'" in err
