"""Sixteenth round, Arabic, Turkish and Ukrainian: a person who "will kill me" over an everyday
mishap, a last letter to a landlord and a goodbye message to colleagues, tired of living in a
place, things given away that are not needed, a question about a drink on medication.

Screened by the rules alone (the shipped lexicons without the classifier).  Each pair is a
real signal that must flag and its everyday look-alike that must pass.  The texts are written
for these tests, not copied from a batch.
"""

from __future__ import annotations

import pytest

from flows.safety import Screener

# Someone who "will kill me" over what I did (money spent, a thing lost or broken, a stain, a
# training or a call missed, a grade, being late), in either order, passes; a bare threat, a
# threat with telling, leaving, the police, a weapon, fear, a beating, a boyfriend or a
# pregnancy beside it still flags.
KILL_ME_MISHAP = [
    # His deed, not mine: a past verb names no person, so the mishap needs "я" before it.
    (
        "колишній стоїть під дверима, розбив вікно і кричить що мене вб'є",
        "я розбила мамину вазу, мама мене вб'є",
    ),
    # "saattir" (for hours) is no "satır" (a cleaver): the queue idiom stays an idiom.
    (
        "babam beni öldürecek, elinde bıçak var",
        "bu kuyruk beni öldürecek, 2 saattir ocmw'de bekliyorum",
    ),
    # Staying out may be a family's honour: only an everyday mishap named is an idiom.
    ("babam beni öldürecek, dün gece eve gelmedim", "babam beni öldürecek, bileziği kaybettim"),
    ("тато мене вб'є, бо я не прийшла ночувати", "тато мене вб'є бо я розбила його телефон"),
    ("мама мене вб'є", "мама мене вб'є, я загубила ключі від квартири"),
    ("він мене вб'є, я розповіла все вчительці", "тато мене вб'є, я розбила його окуляри"),
    (
        "чоловік мене вб'є, я пішла від нього",
        "чоловік мене вб'є, я витратила всю зарплату на сумку",
    ),
    ("тато мене вб'є, у нього є ніж", "я пролила каву на його ноутбук, тато мене вб'є"),
    ("вітчим мене вб'є, я боюся йти додому", "бабуся мене приб'є що я місяць не дзвонила"),
    ("він мене вб'є, вчора він мене бив", "брат меня убьет, я сломала его наушники"),
    ("брат мене вб'є, я вагітна", "подруга мене вб'є, я зʼїв її торт"),
    ("він мене вб'є якщо я комусь скажу", "сестра меня убьет я потеряла её серёжку"),
    ("babam beni öldürecek", "babam beni öldürecek, arabasının kapısını çizdim"),
    ("kocam beni öldürecek, polise gittim", "kocam beni öldürür, kredi kartıyla çanta aldım 😂"),
    ("sevgilim beni öldürecek, ondan ayrıldım", "annemin küpesini kaybettim, görürse beni öldürür"),
    ("abim beni öldürecek çok korkuyorum", "abim beni boğacak, gömleğine çay döktüm"),
    ("babam beni öldürecek, hamile kaldım", "koç beni öldürecek, üç idmanı kaçırdım"),
    ("söylersem beni öldürür", "hocam beni öldürür, ödevi yine unuttum"),
    ("بابا رح يقتلني", "بابا رح يقتلني، ضيعت مفاتيح السيارة"),
    ("بابا رح يقتلني لاني قلت للشرطة", "ماما غادي تقتلني حيت كسرت الطبسيل ديالها"),
    ("راجلي غادي يقتلني، هربت من الدار", "خسرت فلوس الكراء فالقمار، راجلي غادي يقتلني"),
    ("بابا رح يقتلني والسكين بايدو", "اختي رح تقتلني لاني خذيت فستانها وقطعته"),
    ("كسرت تلفونه وهربت من الدار، بابا رح يقتلني", "المدرب هيقتلني اتأخرت على التمرين"),
]

# A last letter named with a landlord or a deposit, a goodbye message to the work group on
# leaving a job: no farewell.  A last letter, or a goodbye message to everyone, still flags.
FAREWELL_LETTERS = [
    (
        "son mektubumu yazdım, artık bitti",
        "son mektubumu da gönderdim ev sahibine, depozitoyu istiyorum",
    ),
    ("son mektubumu yazdım, hepinize elveda", "son mektubumu yazdım, kira sözleşmesi bitiyor"),
    ("veda mesajımı attım herkese", "veda mesajımı attım işteki gruba, cuma son günüm"),
    (
        "veda mesajını attım, artık yokum",
        "ekipteki arkadaşlara veda mesajı attım, yeni işe başlıyorum",
    ),
]

# Ukrainian: a goodbye letter to colleagues or the team on leaving a job is no farewell letter.
UK_LETTERS = [
    (
        "я написала прощальний лист",
        "пишу прощальний лист колективу, завтра останній день на роботі",
    ),
    ("написала прощальний лист мамі", "колегам прощальне повідомлення вже надіслала, йду в декрет"),
]

# Ukrainian: tired of living in a place, things given away because not needed, a drink on a
# medication asked about.
UK_EVERYDAY = [
    ("набридло жити в цьому світі", "набридло жити в цьому гуртожитку, хочу окрему кімнату"),
    ("набридло жити", "втомилась жити в цьому таборі, там постійно шумно"),
    ("роздаю свої речі, мені вже не треба", "віддам зимову куртку, мені вже не треба"),
    ("мені вже не треба мої речі", "продаю учебники по математике, мне уже не нужно"),
    ("п'ю горілку з сертраліном кожного вечора", "чи можна келих вина на сертраліні?"),
    ("запиваю таблетки горілкою", "можна пиво якщо я п'ю антидепресанти?"),
]


@pytest.mark.parametrize(
    ("signal", "look_alike"), KILL_ME_MISHAP + FAREWELL_LETTERS + UK_LETTERS + UK_EVERYDAY
)
def test_the_signal_flags_and_the_look_alike_passes(
    rules: Screener, signal: str, look_alike: str
) -> None:
    assert rules.screen(signal).flagged, signal
    assert not rules.screen(look_alike).flagged, look_alike


@pytest.mark.parametrize(
    "text",
    [
        "мама мене вб'є, я розбила її вазу, а вчора вона мене била",
        "тато мене вб'є, я загубила ключі, я хочу вмерти",
        "annem beni öldürür, bileziğini kaybettim, artık yaşamak istemiyorum",
        "بابا رح يقتلني، كسرت تلفونه، بدي موت",
        "son mektubumu yazdım, ev sahibine değil, hepinize elveda",
        "набридло жити в цьому гуртожитку, і взагалі набридло жити",
    ],
)
def test_an_idiom_never_hides_a_signal_beside_it(rules: Screener, text: str) -> None:
    assert rules.screen(text).flagged, text


# A "will kill me" beside a witnessed act, an abortion, a coming out, evidence or a change of
# faith: what the writer did is no mishap, and the threat stays.
@pytest.mark.parametrize(
    "text",
    [
        "він мене вб'є, я бачила що він зробив",
        "брат мене вб'є, я зізналась що я лесбійка",
        "він мене вб'є, я записала його на відео",
        "babam beni öldürecek, eşcinsel olduğumu söyledim",
        "abim beni öldürecek, kürtaj oldum",
        "هو غادي يقتلني، شفت شنو دار",
        "بابا رح يقتلني، اعترفت اني مثلي",
        "мене вб'ють, я взяла в борг у них гроші і не віддала",
        "написала прощальний лист колегам і мамі, мене скоро не буде",
    ],
)
def test_a_threat_over_what_is_no_mishap_still_flags(rules: Screener, text: str) -> None:
    assert rules.screen(text).flagged, text
