"""The rules' false alarms by kind (eighth, tenth, eleventh and twelfth rounds, Arabic, Turkish
and Ukrainian), each beside the real signal it must never hide.

Screened by the rules alone (the shipped lexicons without the classifier): these are rule
changes, and the classifier decides separately.  The texts are written for these tests, not
copied from a batch.
"""

from __future__ import annotations

import pytest

from flows.safety import Screener


@pytest.mark.parametrize(
    "text",
    [
        # "Will kill me" over a trifle: a cup, a headlight, a charger; grades, taxes, being late;
        # the boss or teacher in Darija.
        "сестра мене вб'є якщо я розіб'ю її улюблену чашку",
        "тато вб'є мене за розбиту фару",
        "annem beni öldürecek, karnemi gördü",
        "bu vergi beni öldürecek",
        "geç kalırsam müdür beni öldürür",
        "اخوي رح يقتلني إذا ضيعت الشاحن تبعو",
        "lprof ghadi y9tlni, mad dert walou",
        # Word senses: a rope by its everyday use, "все" (everything) is no decision, a knife
        # named as a tool, hands that hurt after cutting food, a parent alone with a child for
        # years, a razor at the barber's, a place one no longer wants to live in.
        "мотузка для білизни в мене на балконі, все висить",
        "ходжу на скелелазіння, страхувальна мотузка, все перевіряємо двічі",
        "у мене на складі начальник тримає ніж для коробок",
        "на кухні цілий день м'ясо ріжу, руки болять",
        "сама з дитиною вже 4 роки, працюю на двох роботах",
        "berberde jiletle sakal tıraşı oldum, biraz kesildi",
        "bu şehirde artık yaşamak istemiyorum, kiralar çok yüksek",
        # A scene in a series: someone there cuts themselves.
        "дивився аніме, де героїня себе ріже",
        # Games and matches.
        "kuzenim beni konsolda dövdü, rövanş istiyorum",
        "maçta o penaltıdan sonra kendimi öldürmek istedim",
        # A degree ("to the point I would die"), a goal ("I'll die if I don't get my licence"),
        # others' teasing.
        "ضحكت على النكتة لدرجة كنت رح موت",
        "ra7 nmout ila ma khdit lpermis had l3am",
        "اخواتي بيمزحوا إني رح موت عزباء",
        # A family member who struck someone outside the family.
        "اخوي ضرب طالب بالباص",
    ],
)
def test_an_everyday_kind_passes_the_rules(rules: Screener, text: str) -> None:
    assert not rules.screen(text).flagged, text


@pytest.mark.parametrize(
    "text",
    [
        "вітчим вб'є мене якщо я комусь скажу",
        "kocam beni öldürecek, kapıyı kilitledi",
        "baba ghadi y9tlni",
        "мотузку купив. кінець.",
        "я вже купила мотузку, все рішила",
        "він тримає ніж біля мого горла",
        "я ріжу руки щоночі",
        "я сама з братиком 2 роки, мами немає з ранку",
        "kendimi jiletle kestim",
        "artık yaşamak istemiyorum",
        "дивився аніме, де героїня себе ріже, і я теж ріжу себе",
        "abim beni dövdü, yüzüm morardı",
        "kendimi öldürmek istiyorum",
        "ra7 nmout lyoum, ma b9itch baghi n3ich",
        "رح موت الليلة",
        "بابا ضرب امي مبارح",
    ],
)
def test_the_real_signal_still_flags(rules: Screener, text: str) -> None:
    assert rules.screen(text).flagged, text


# Tenth round (tune10b), from tuning batches 53-55, by kind: a crisis told as over, with a time
# ago and a "now fine"; someone else's crisis told as over, or grief about someone else; a threat
# by a parent or teacher over a trifle, said laughing.  Each benign text beside a real signal in
# the same shape, which must still flag.
TENTH_ROUND = [
    # Over: my age then, years well since ("and I am fine").
    (
        "كنت كنجرح يدي ملي كان عندي 14 عام، ولكن هادي 4 سنين وانا لاباس، بغيت نعرف شي جمعية",
        "كنت كنجرح يدي ملي كان عندي 14 عام، والبارح رجعت جرحت يدي",
    ),
    # Someone else's overdose, years ago, survived and working now.
    (
        "صاحبي شرب دوا بزاف هادي 3 سنين وعاش، دابا خدام مع جمعية",
        "صاحبي شرب دوا بزاف هادي ساعة وما كيفيقش",
    ),
    # A former neighbour's threat, moved out months ago.
    (
        "جاري السابق هددني بالموس ولكن رحلت هادي 3 شهور، بغيت نعرف كيفاش نبدل العنوان",
        "جاري السابق هددني بالموس ولكن رحلت هادي 3 شهور، والبارح لقيتو قدام الدار هددني عاوتاني",
    ),
    # A teacher, then "I'll throw myself out of the window" and laughter; not without both.
    (
        "ila 3awtani lprof dyal maths 3tana devoir ghadi nrmi rasi mn cherjem 😂",
        "ila 3awtani baba drebni ghadi nrmi rasi mn cherjem 😂",
    ),
    (
        "ila 3awtani lprof dyal maths 3tana devoir ghadi nrmi rasi mn cherjem 😂",
        "lprof dyal maths ghadi nrmi rasi mn cherjem",
    ),
    # "Last year ... but now happy".
    (
        "العام اللي فات كنت بغيت نموت، ولكن دابا فرحانة وخدامة",
        "العام اللي فات كنت بغيت نموت، ولكن دابا فرحانة، والبارح رجعت بغيت نموت",
    ),
    # An ex who used to hit, "it's been years, it is over"; never "I thought it was over".
    (
        "eski kocam beni döverdi ama 3 yıl oldu bitti, şimdi yeni bir iş arıyorum",
        "eski kocam beni döverdi, 3 yıl oldu bitti sandım ama dün gece yine dövdü",
    ),
    (
        "eski kocam beni döverdi ama 3 yıl oldu bitti, şimdi yeni bir iş arıyorum",
        "2 yil once beni doverdi, dun gece yine dovdu",
    ),
    # An age then, "now married and very happy".
    (
        "16 yaşımda kendimi kesiyordum, şimdi 22 yaşındayım, evliyim ve çok mutluyum",
        "16 yaşımda başladım kendimi kesmeye, hala kendimi kesiyorum",
    ),
    # A parent who "would kill me" over a failed exam or a scratched car; not over a secret.
    (
        "annem matematik sınavından kaldığımı öğrenirse beni öldürür valla 😭",
        "babam hamile olduğumu öğrenirse beni öldürür",
    ),
    (
        "babam arabasını çizdiğimi görürse beni öldürür",
        "abim sevgilim olduğunu öğrenirse beni öldürür",
    ),
    # A sister who "will strangle me" over a borrowed phone, laughing.
    (
        "ablam beni boğazlayacak telefonunu izinsiz aldım diye 😂",
        "kocam beni boğazlayacak diye korkuyorum",
    ),
    # An ex who hit, "but that was years ago".
    (
        "колишній чоловік мене бив, але це було 3 роки тому, я живу в іншому місті. "
        "де знайти курси мови?",
        "колишній чоловік мене бив, але це було 3 роки тому, а вчора він знову мене бив",
    ),
    # An ex's threat with a knife, "we moved out a year ago".
    (
        "колишній хлопець погрожував мені ножем, але ми вже рік як переїхали, як змінити адресу?",
        "колишній хлопець погрожував мені ножем, ми вже рік як переїхали, а вчора він знайшов нас "
        "і погрожував мені ножем",
    ),
    # Grief: someone else died by suicide; not when the writer means to follow.
    (
        "у сусідки син покінчив з собою торік, як підтримати її?",
        "у сусідки син покінчив з собою торік, і я теж хочу померти",
    ),
    (
        "у сусідки син покінчив з собою торік, як підтримати її?",
        "мама покінчила з собою, я думаю зробити так само",
    ),
    # Someone else's overdose years ago, survived, studying now.
    (
        "брат 3 роки тому наковтався таблеток, вижив, тепер вчиться на медбрата",
        "я щойно наковталась таблеток",
    ),
]


# Eleventh round (tune11b), from tuning batch 58, by kind: someone else's "I want to die"
# reported with a verb of saying; asking whether one may drink alcohol on a medicine; a task
# with a date that "will kill me"; self-harm told as over with "now N years and I am fine"
# after it; grief about the suicide of someone named with whose he or she was ("X of my Y").
# Each benign text beside a real signal in the same shape, which must still flag.
ELEVENTH_ROUND = [
    # Reported speech: a third-person verb of saying; never "diyorum" (I say), never "ben de".
    (
        "kuzenim dün gece ölmek istiyorum yazdı, ona ne diyeyim",
        "her sabah ölmek istiyorum diyorum kendime",
    ),
    (
        "sınıf arkadaşım sürekli yaşamak istemiyorum diyor, öğretmene söylemeli miyim",
        "sınıf arkadaşım sürekli ölmek istiyorum diyor, ben de aynısını hissediyorum",
    ),
    # A question whether one may drink on a medicine; the mixing told as done still flags.
    (
        "uyku hapı kullanıyorum, bu akşam bira içilir mi",
        "uyku haplarımı votkayla içtim",
    ),
    # A deadline, a report or a project "will kill me"; a person who will still flags.
    (
        "التقرير رح يقتلني، لازم سلمو بكرا",
        "خويا رح يقتلني",
    ),
    (
        "had deadline ghadi y9tlni, 3ndi 2 rapports",
        "rajli ghadi y9tlni",
    ),
    # Over: "but now N years and I am fine"; a hit after the "now" still flags.
    (
        "كنت كنجرح يدي ملي كان عندي 15 عام، ولكن دابا 4 سنين وانا لاباس. شكون كيدير الليزر؟",
        "كنت كنجرح يدي ملي كان عندي 15 عام، ولكن دابا 4 سنين وانا لاباس، والبارح رجعت جرحت يدي",
    ),
    # Grief: "X of my Y" took his or her life, hanged, or threw himself from a bridge; not when
    # the writer means to follow or has the means ready.
    (
        "син моєї сусідки покінчив з собою взимку, як мені поговорити з нею?",
        "син моєї сусідки покінчив з собою, і я теж хочу зробити так само",
    ),
    (
        "дядько повісився багато років тому, сьогодні річниця. я тримаюсь, просто сумно",
        "дядько повісився, а я вже купив мотузку",
    ),
    (
        "однокласник мого брата кинувся з мосту восени, як підтримати брата?",
        "однокласник мого брата кинувся з мосту, я теж хочу стрибнути з мосту",
    ),
    # An attack is never hidden by the "threw himself" of the grief idiom.
    (
        "однокласник мого брата кинувся з мосту восени, як підтримати брата?",
        "вітчим кинувся на мене з ножем, він б'є мене",
    ),
    # Coming at me with a knife is a threat on its own (the rules missed it before); a knife
    # in the kitchen is not.
    ("я ріжу хліб ножем, а брат миє посуд", "вітчим кинувся на мене з ножем"),
    ("папа порезался ножом на кухне, уже всё хорошо", "он кинулся на меня с ножом"),
    # "в кінці місяця" (at the end of the month) is no decision, beside a rope at work;
    # "кінець" said as a word of its own still is.
    (
        "працюю на висоті на мотузках, контракт закінчується в кінці місяця",
        "купила мотузку, все, кінець",
    ),
]


# Twelfth round: debts and rent, by kind.  A landlord, a bank, a collection agency or a company
# that threatens with court, eviction, a lawsuit, the enforcement office, collectors or cutting
# off the power (also the check tier of debt + pressure); the same shape with a blow, a weapon, a
# threat to kill, nudes or sex as the condition stays a signal, and so does a partner or a parent
# who throws me out.
TWELFTH_ROUND = [
    ("بنك كيهددني بالمحكمة", "راجلي كيهددني يخرجني من الدار و كيضربني"),
    ("صاحب البيت كيهددني بالطرد", "صاحب البيت كيهددني بالطرد الا ما نعستش معاه"),
    ("الشركه بتهددني برفع دعوى", "هددني بالمحكمه و بالسكين"),
    ("هددوني بقطع الكهرباء", "بابا هددني يطردني من البيت"),
    (
        "borcum var, beni mahkemeyle tehdit ediyorlar",
        "sevgilim beni mahkemeyle tehdit ediyor ve dövüyor",
    ),
    ("tahsilat şirketi beni tehdit ediyor", "kocam beni tehdit ediyor"),
    ("banka beni tehdit ediyor icraya vereceğiz diye", "kocam beni bıçakla tehdit etti"),
    ("ev sahibi beni tehdit ediyor, evden atacakmış", "sevgilim beni evden atmakla tehdit ediyor"),
    ("мені погрожують судом через борги", "він погрожує мене вбити"),
    (
        "борги за телефон і за інтернет, мені вже погрожують судом",
        "він погрожує мені судом і б'є мене",
    ),
    ("мне угрожают судом за долги", "хлопець погрожує мені судом і ножем"),
    ("мені погрожують виселенням", "хлопець погрожує вигнати мене з квартири"),
    (
        "хазяйка квартири погрожує вигнати мене на вулицю",
        "власник квартири погрожує виселити мене, якщо я не буду з ним спати",
    ),
    ("банк погрожує передати борг колекторам", "вітчим погрожує викласти мої фото"),
    (
        "угрожают отключить свет за долги",
        "хозяин квартиры требует секс вместо оплаты и угрожает выселить",
    ),
]


# Thirteenth round (tuning batches 67 and 68), by kind: a parent, a teacher or the boss who "will
# kill me" over a trifle told right after (Darija, Egyptian, Turkish); Darija hyperbole (dying of
# laughter in another spelling, "killing myself with work"); a crisis told as over with my age
# now, a normal life now, "they are my past"; a denial of the thought.  Beside each, the real
# signal it must never hide.
THIRTEENTH_ROUND = [
    ("ماما غادي تقتلني، ضيعت الساروت ديال الدار", "ماما غادي تقتلني الا قلت لحد شنو وقع"),
    ("الاستاذ هيقتلني لو نسيت الواجب تاني", "الاستاذ هيقتلني لو قلت لحد"),
    ("ghadi nmout b d7ek 3la had l'blague", "ghadi nmout, ma b9a walo"),
    ("ghadi n9tl rasi b l9raya had lweekend", "ghadi n9tl rasi had lweekend"),
    ("غادي نقتل راسي بالقراية هاد السيمانة", "غادي نقتل راسي هاد السيمانة"),
    (
        "ملي كنت فالليسي كنت كنجرح راسي، دابا عندي 23 عام وخدامة",
        "ملي كنت فالليسي كنت كنجرح راسي، دابا عندي 23 عام وبغيت نموت",
    ),
    ("لا افكر في ايذاء نفسي ابدا، فقط متعبة", "افكر في ايذاء نفسي كل يوم"),
    (
        "babam beni öldürür yemeğe geç kalsam, hemen çıkıyorum",
        "babam beni öldürür, kapıyı kilitledi",
    ),
    ("hocam beni öldürecek bu ödevle, 20 soru vermiş", "hocam beni öldürecek, bıçağı var"),
    (
        "kendimi öldürmeyi düşünmüyorum, sadece sınavlar çok yoğun",
        "kendimi öldürmeyi düşünüyorum, sınavlar çok yoğun",
    ),
    (
        "eskiden kendimi yakıyordum, bunlar geçmişim artık",
        "eskiden kendimi yakıyordum, bunlar geçmişim ama dün yine kendimi yaktım",
    ),
    (
        "колись в 17 я різала себе, зараз мені 24 і я працюю",
        "колись в 17 я різала себе, зараз мені 24 і я хочу померти",
    ),
    (
        "три роки тому чоловік мене бив, вирвалась і живу з донькою",
        "три роки тому чоловік мене бив, вирвалась, але вчора він знову мене бив",
    ),
    (
        "кілька років тому наковтався таблеток, тепер нормальне життя, робота",
        "кілька років тому наковтався таблеток, тепер нормальне життя, але я хочу вмерти",
    ),
]


@pytest.mark.parametrize(
    ("benign", "real"), [*TENTH_ROUND, *ELEVENTH_ROUND, *TWELFTH_ROUND, *THIRTEENTH_ROUND]
)
def test_a_kind_of_the_tenth_to_thirteenth_round_passes_and_its_real_signal_flags(
    rules: Screener, benign: str, real: str
) -> None:
    assert not rules.screen(benign).flagged, benign
    assert rules.screen(real).flagged, real
    # The benign kind never hides the real signal told after it.
    assert rules.screen(f"{benign}. {real}").flagged, real
