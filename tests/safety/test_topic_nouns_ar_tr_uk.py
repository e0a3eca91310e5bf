"""The topic nouns of Arabic, Turkish and Ukrainian as concepts (seventh round, issue #13).

"intihar", "aşırı doz", "الانتحار", "جرعة زائدة", "самогубство", "передоз" and "селфхарм"
used to flag any message that named the topic (the news, a school task, a cousin's past, a
coffee "overdose").  They now decide only with this person beside them: a first-person verb of
thinking, wanting, deciding, trying or taking, "I", "at me", "now", "again" (the concepts
``suicide_topic``, ``overdose_topic``, ``selfharm_topic`` and the rules that need ``my_act`` or
``my_od_act``); the word typed alone still flags.  Beside each kind of false alarm stands the real
signal it must never hide.

Screened by the rules alone (the shipped lexicons without the classifier): these are rule
changes.  The texts are written for these tests, not copied from a batch.
"""

from __future__ import annotations

import pytest

from flows.safety import Screener

# The topic named without the writer in it: someone else, the news, a number, a lesson, a
# trivial "overdose" of coffee or baklava.
_TOPIC_ONLY = [
    "dün akşam haberlerde bir adamın intihar ettiğini izledim",
    "kuzenimin arkadaşı geçen ay intihar etmiş, çok üzüldüm",
    "hemşirelik stajında aşırı doz belirtilerini öğreniyoruz",
    "bayramda baklavadan overdoz aldım resmen",
    "ابن جيراننا انتحر الشهر الماضي، الله يرحمه",
    "كم عدد حالات الانتحار في بلجيكا كل سنة؟",
    "شربت خمس فناجين قهوة، جرعة زائدة من الكافيين",
    "скільки самогубств було в Бельгії минулого року?",
    "випила три кави, передоз кофеїну",
    "у подруги був передоз на вечірці, зараз вона вдома",
]

# The topic with this person in it, or the word alone: it flags.
_MINE = [
    "intihar",
    "intihar edicem bu gece",
    "her gün intiharı düşünüyorum",
    "aşırı doz aldım",
    "الانتحار",
    "أفكر في الانتحار كل يوم",
    "أريد الانتحار",
    "سأنتحر الليلة",
    "أخذت جرعة زائدة",
    "суїцид",
    "думаю про самогубство",
    "у мене передоз",
    "у мене суїцидальні думки",
    "я знову роблю селфхарм",
]


@pytest.mark.parametrize("text", _TOPIC_ONLY)
def test_a_topic_named_without_the_writer_in_it_passes(rules: Screener, text: str) -> None:
    assert not rules.screen(text).flagged, text


@pytest.mark.parametrize("text", _MINE)
def test_the_topic_with_the_writer_in_it_or_alone_flags(rules: Screener, text: str) -> None:
    assert rules.screen(text).flagged, text


@pytest.mark.parametrize(
    ("benign", "signal"),
    [
        # The context word (news, a school task) vetoes its own sentence only.
        ("haberlerde intihar konulu bir belgesel vardı.", " intihar edicem bu gece"),
        ("عندي عرض بالمدرسة عن الانتحار.", " انا افكر في الانتحار"),
        ("пишу есе про самогубства.", " я думаю про самогубство"),
        # A crisis told as over, in other words than before (years well, clean since, therapy).
        (
            "16 yaşındayken kendime zarar veriyordum ama 5 yıldır iyiyim",
            " ama bu gece yine kendimi kestim",
        ),
        (
            "3 yıl önce overdoz oldum, şimdi metadon programındayım",
            " ama bu gece yine 20 hap içtim",
        ),
        ("كنت أجرح حالي زمان، تعالجت", " بس اليوم جرحت حالي من جديد"),
        ("в 15 я себе різала, вже 4 роки все добре", " але вчора знову порізала руки"),
        ("два роки тому в мене був передоз, відтоді чиста", " але сьогодні випила всі таблетки"),
        # Someone else's past attempt or threat.
        ("мій друг після армії пробував вкоротити собі віку", ". я теж хочу померти"),
        ("bir müşteri kendimi asarım dedi", ". ben de ölmek istiyorum"),
        # A trivial cause: a lost match, a form to fill in, a scratched car, a queue.
        ("galatasaray yine kaybetti intihar edicem", ". gerçekten ölmek istiyorum"),
        ("bir form daha doldurursam camdan atlıcam", ". ölmek istiyorum"),
        ("lo OCMW طلبوا ورقة كمان والله لأرمي حالي من الشباك", ". بدي موت"),
        ("babam beni öldürür arabasını çizdim", ". kendimi öldürmek istiyorum"),
        ("sıra o kadar uzundu ki ölmek istedim", ". şimdi gerçekten ölmek istiyorum"),
        ("سقطت في امتحان السياقة بغيت نموت ههه", ". بس بجد بدي انتحر"),
        # Farewells at a job's last day, or before migrating.
        ("bugün işteki son günüm, herkesle vedalaştım", ". bu gece intihar edicem"),
        # A negated form is no statement ("kendime zarar vermediğim 1 yıl oldu").
        ("bugün kendime zarar vermediğim 1 yıl oldu", ". ama şimdi kendime zarar vermek istiyorum"),
    ],
)
def test_a_benign_kind_passes_and_its_signal_flags(
    rules: Screener, benign: str, signal: str
) -> None:
    assert not rules.screen(benign).flagged, benign
    assert rules.screen(benign + signal).flagged, benign + signal


@pytest.mark.parametrize(
    "text",
    [
        "ölmek istiyorum haha",
        "intihar edicem haha",
        "بغيت نموت ههه",
        "хочу померти хаха",
    ],
)
def test_laughter_alone_never_takes_back_a_wish_to_die(rules: Screener, text: str) -> None:
    assert rules.screen(text).flagged, text
