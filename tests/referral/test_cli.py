"""``opstap referral create|list|stats``: the printed link, the poster files, the QR code.

The QR codes are read back with a decoder (zxing-cpp), the SVG by drawing its path again: no
system rasteriser is needed.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import zxingcpp
from PIL import Image, ImageDraw

from bot.cli import _parser
from bot.clock import FrozenClock
from bot.referral.cli import run_referral
from bot.settings import Settings, load_settings
from storage.migrate import upgrade
from storage.referral import referrals_of
from storage.referral_port import CODE
from storage.sql import open_storage
from tests.routing2.conftest import T0

LINK = re.compile(r"https://t\.me/opstap_test_bot\?start=(r_[A-Za-z0-9_-]+)")


async def cli(settings: Settings, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await run_referral(
        _parser().parse_args(["referral", *argv]), settings, FrozenClock(T0), out, err
    )
    return code, out.getvalue(), err.getvalue()


async def cli_settings(tmp_path: Path, **extra: str) -> Settings:
    url = f"sqlite+aiosqlite:///{tmp_path / 'opstap.db'}"
    await upgrade(url)
    return load_settings(
        {"OPSTAP_DATABASE_URL": url, "OPSTAP_BOT_USERNAME": "opstap_test_bot", **extra},
        env_file=None,
    )


def decode_png(path: Path) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(path))]


def decode_svg(path: Path) -> list[str]:
    """Draw the SVG's module path again (``M x y h n v1 h-n z`` runs) and read it."""
    svg = path.read_text(encoding="utf-8")
    size = re.search(r'viewBox="0 0 (\d+) (\d+)"', svg)
    assert size is not None
    side = int(size.group(1))
    scale = 8
    image = Image.new("L", (side * scale, side * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y, n in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", svg):
        x0, y0 = int(x) * scale, int(y) * scale
        draw.rectangle((x0, y0, x0 + int(n) * scale - 1, y0 + scale - 1), fill=0)
    return [r.text for r in zxingcpp.read_barcodes(image)]


async def test_create_prints_the_link_last_and_writes_a_poster_that_scans(tmp_path: Path) -> None:
    settings = await cli_settings(
        tmp_path,
        OPSTAP_PUBLIC_URL="https://opstap.example.org",
        OPSTAP_WEBHOOK_SECRET="s3cret-s3cret-s3cret-s3cret",
    )
    out_dir = tmp_path / "posters"
    code, out, err = await cli(
        settings,
        "create",
        "--partnership",
        "teamwork-halle-asse",
        "--source",
        "OCMW Halle, wachtzaal",
        "--out",
        str(out_dir),
        "--days",
        "90",
    )
    assert code == 0, err
    lines = out.strip().splitlines()
    found = LINK.fullmatch(lines[-1])
    assert found is not None, out
    referral = found.group(1)
    assert CODE.fullmatch(referral) and len(referral) <= 64
    # Opaque: nothing of the partnership or the source is in the code.
    assert "halle" not in referral.lower() and "ocmw" not in referral.lower()
    assert f"web chat: https://opstap.example.org/?ref={referral}" in lines
    png, svg = out_dir / f"{referral}.png", out_dir / f"{referral}.svg"
    assert sorted(p.name for p in out_dir.iterdir()) == sorted([png.name, svg.name])
    assert decode_png(png) == [lines[-1]]
    assert decode_svg(svg) == [lines[-1]]
    # The one-line caption names the partnership.
    assert "Scan en chat met Teamwork Halle-Asse</text>" in svg.read_text(encoding="utf-8")
    storage = await open_storage(settings.database_url)
    try:
        async with storage.transaction() as tx:
            link = await referrals_of(tx).link(referral)
    finally:
        await storage.close()
    assert link is not None and link.partnership == "teamwork-halle-asse"
    assert link.source == "OCMW Halle, wachtzaal" and link.expires_at == T0 + timedelta(days=90)
    code, listed, _ = await cli(settings, "list")
    assert code == 0 and listed.startswith(f"{referral}\tteamwork-halle-asse\tOCMW Halle")
    code, stats, _ = await cli(settings, "stats")
    assert code == 0 and stats.splitlines() == [
        "kind\tsource\tpartnership\tstarted\tintakes\tcases"
    ]


async def test_create_refuses_bad_input_before_storing_anything(tmp_path: Path) -> None:
    settings = await cli_settings(tmp_path)
    out_dir = tmp_path / "posters"
    for argv, says in (
        (("--partnership", "nope", "--source", "x"), "unknown partnership"),
        (("--partnership", "opstap-vangnet", "--source", "x"), "unknown partnership"),
        (("--partnership", "dash", "--source", " "), "--source"),
        (("--partnership", "dash", "--source", "x", "--days", "0"), "--days"),
    ):
        code, out, err = await cli(settings, "create", *argv, "--out", str(out_dir))
        assert code == 2 and says in err and out == ""
    assert not out_dir.exists()
    code, listed, _ = await cli(settings, "list")
    assert listed == ""


async def test_a_long_caption_stays_on_one_line_and_the_code_still_scans(tmp_path: Path) -> None:
    settings = await cli_settings(tmp_path)
    code, out, _ = await cli(
        settings,
        "create",
        "--partnership",
        "dash",
        "--source",
        "Jeugdhuis",
        "--out",
        str(tmp_path),
        "--caption",
        "Heb je vragen over werk, geld, wonen of je gezondheid? Scan deze code en chat met ons "
        * 3,
    )
    assert code == 0
    link = out.strip().splitlines()[-1]
    referral = link.rsplit("=", 1)[1]
    assert decode_png(tmp_path / f"{referral}.png") == [link]
    caption = re.search(r">([^<]*)</text>", (tmp_path / f"{referral}.svg").read_text())
    assert caption is not None and "\n" not in caption.group(1)


def test_a_caption_too_wide_is_set_smaller_then_cut() -> None:
    from bot.referral.poster import CAPTION_SIZE, _fit

    short, font = _fit("Scan en chat", 400)
    assert short == "Scan en chat" and font.size == CAPTION_SIZE  # type: ignore[union-attr]
    text, small = _fit("Heb je vragen over werk, geld of wonen? Scan en chat met ons " * 4, 400)
    assert text.endswith("…") and small.getlength(text) <= 400
