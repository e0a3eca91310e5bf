"""Rules of the Arabic, Turkish and Ukrainian lexicons added while tuning on fresh batches
(1-6 first; the sixth round's, after batches 15, 16, 23 and 24, at the end).

The lines here are written for these tests (none is copied from a batch): each kind of phrasing
the batches showed missing gets a line that the rules alone must flag, and each everyday
look-alike a line they must leave alone.  The classifier is switched off, so a rule that
breaks fails here even when the model would still catch the line.
"""

from __future__ import annotations

from importlib.resources import files

import pytest
import yaml

from flows.safety.detect import Screener

LANGUAGES = ("ar", "tr", "uk")


class _UniqueKeys(yaml.SafeLoader):
    """A YAML loader that refuses a mapping key given twice (the second would hide the first)."""


def _no_duplicates(loader: _UniqueKeys, node: yaml.MappingNode, deep: bool = False) -> object:
    seen: set[object] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise ValueError(f"duplicate key {key!r} at line {key_node.start_mark.line + 1}")
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_UniqueKeys.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


@pytest.mark.parametrize("language", LANGUAGES)
def test_lexicon_has_no_key_twice(language: str) -> None:
    # A second "acute_danger:" under check once silently replaced the first list.
    text = (files("flows.safety") / "lexicon" / f"{language}.yaml").read_text("utf-8")
    assert yaml.load(text, Loader=_UniqueKeys)["language"] == language


FLAGGED: list[tuple[str, str, str]] = [
    # (language, category, text)
    # Papers taken by an employer or a "helper": exploitation.
    ("uk", "acute_danger", "хазяїн відібрав у мене паспорт і каже працювати далі"),
    ("tr", "acute_danger", "patron pasaportumu aldı, eve gitmemize izin yok"),
    ("ar", "acute_danger", "صاحب الشغل خد جوازي وما بيرجعه"),
    # A small child alone for hours.
    ("uk", "acute_danger", "малюк сусідів 2 роки сам вдома з ранку, ніхто не відчиняє"),
    ("tr", "acute_danger", "komşunun bebeği dünden beri yalnız, kimse kapıyı açmıyor"),
    ("ar", "acute_danger", "في طفل لوحده بالشقة اللي جنبنا من الصبح"),
    # Fire, trapped.
    ("uk", "acute_danger", "у будинку пожежа, ми на сходах і не можемо вийти"),
    ("tr", "acute_danger", "binada yangın var, mahsur kaldık"),
    # Someone else took something and does not respond.
    ("tr", "overdose", "arkadaşım partide bir şey içti, yere düştü ve uyanmıyor"),
    ("ar", "overdose", "صديقي شرب حبوب بالسهرة وهلأ طايح وما عم يفيق"),
    # Pills taken already, a thank-you as goodbye.
    ("uk", "overdose", "таблетки вже випила, просто хотіла подякувати вам"),
    ("tr", "overdose", "ilaçları zaten içtim, sadece teşekkür etmek istedim"),
    # Latin-script Ukrainian and Arabizi.
    ("uk", "suicide", "vse, ya vyrishyv, zavtra pokinchu z soboyu"),
    ("uk", "self_harm", "znovu rizhu sebe i ne mozhu zupynytysya"),
    ("ar", "suicide", "ana wa9fa 3la sta7 daba w ghadi nt9ez"),
    ("ar", "overdose", "klit 3chrin 7ba dyal dafalgan"),
    # High places and tracks in first-person forms.
    ("tr", "suicide", "köprüdeyim şimdi, atlayacağım"),
    ("uk", "suicide", "я на даху, 14 поверх"),
    ("uk", "suicide", "стрибну під поїзд сьогодні"),
    # A knife in the hand, "I'll do it now".
    ("uk", "suicide", "ніж у руці, зараз зроблю це"),
    ("tr", "suicide", "bıçak elimde, bu gece yapacağım"),
    # A rope and the decision taken.
    ("uk", "suicide", "мотузку купила. все вирішила"),
    # Hurt until it bleeds, choking, a belt.
    ("uk", "self_harm", "бився головою об стіну, поки не пішла кров"),
    ("tr", "abuse_violence", "kocam dün gece boğazımı sıktı"),
    ("tr", "abuse_violence", "babam kemerle dövüyor"),
    ("uk", "abuse_violence", "вітчим б'є маму прямо зараз"),
    # Fifth round (batches 7-13): a friend collapsed after drugs, stabbed and bleeding, armed
    # men, sexual assault, forced into a car, a blade in the hand again.
    ("uk", "overdose", "друг нюхав мефедрон, тепер його трясе і він не відповідає"),
    ("tr", "overdose", "arkadaşım esrar içti, şimdi yere düştü ve titriyor"),
    ("ar", "overdose", "صاحبي ضرب شي حاجة وطاح، ما كيجاوبش"),
    ("tr", "acute_danger", "kuzenim bıçaklandı, çok kan kaybediyor"),
    ("tr", "acute_danger", "tefecinin adamları aşağıda sopalarla bekliyor"),
    ("tr", "abuse_violence", "hocam bana cinsel tacizde bulundu"),
    ("tr", "acute_danger", "beni zorla arabaya bindirdiler"),
    ("ar", "suicide", "rani m3a la lame daba, rje3t liha"),
]

CHECKED: list[tuple[str, str, str]] = [
    # Indirect signals: nobody would notice, why live, the relieved family, not waking up.
    ("uk", "suicide", "якщо я зникну, ніхто не помітить"),
    ("tr", "suicide", "ortadan kaybolsam kimse aramaz"),
    ("ar", "suicide", "لو اختفيت ما حدا رح يحس"),
    ("ar", "suicide", "الكل رح يرتاح لو أنا مش موجودة"),
    ("uk", "suicide", "навіщо взагалі жити"),
    ("ar", "suicide", "bghit nn3s w ma nfi9ch"),
    # Saving pills, hiding scars, deserving pain, relapse urge.
    ("uk", "overdose", "вже місяць збираю таблетки"),
    ("tr", "overdose", "haplarımı dolapta saklıyorum"),
    ("tr", "self_harm", "yara izlerimi uzun kollu giyerek saklıyorum"),
    ("ar", "self_harm", "كنخبي الجروح اللي فدراعي"),
    ("uk", "self_harm", "я заслуговую на біль"),
    ("tr", "self_harm", "aylardır kesmiyordum ama şimdi çok istiyorum"),
    # Alcohol with sleeping pills.
    ("tr", "overdose", "her gece votkayla uyku hapı alıyorum"),
    ("uk", "overdose", "можна запивати снодійне алкоголем?"),
    # Control by a partner, avoiding home.
    ("tr", "abuse_violence", "sevgilim telefonumu kontrol ediyor, görüşmemi yasakladı"),
    ("uk", "abuse_violence", "чоловік не дає мені грошей і перевіряє мій телефон"),
    ("ar", "abuse_violence", "ما بغيتش نرجع للدار الليلة"),
    # Debts and callers, papers asked for, sleeping outside.
    ("tr", "acute_danger", "borcum yüzünden her gün arıyorlar, evimi biliyorlar"),
    ("uk", "acute_danger", "хтось хоче мій паспорт за роботу"),
    ("ar", "acute_danger", "الليلة بنام برا بالشارع"),
    # Fifth round: long sleeves in summer, pain that helps, more than prescribed, bruises
    # explained away, learning to keep quiet, a boss threatening with the police.
    ("tr", "self_harm", "yazın bile uzun kollu giyiyorum"),
    ("uk", "self_harm", "біль допомагає краще ніж будь-що"),
    ("ar", "self_harm", "الألم كيريحني"),
    ("uk", "overdose", "п'ю набагато більше ніж лікар прописав"),
    ("tr", "overdose", "doktorun dediğinden çok daha fazla alıyorum"),
    ("tr", "abuse_violence", "morluklarım var ama kimseye söyleyemem"),
    ("uk", "abuse_violence", "я навчилась мовчати вдома"),
    ("uk", "abuse_violence", "роботодавець погрожує здати мене в міграційну"),
    # Sixth round (kinds, newly worded): better off without me, praying not to wake up,
    # thanks-and-goodbye, a pet left in case, no age ahead, tired of fighting, why alive.
    ("tr", "suicide", "ben yokken annem daha rahat eder"),
    ("uk", "suicide", "без мене родині буде легше"),
    ("ar", "suicide", "حاسة حالي تقيلة على الكل"),
    ("ar", "suicide", "ana t9il 3la kolchi"),
    ("tr", "suicide", "her gece hiç uyanmamak için dua ediyorum"),
    ("uk", "suicide", "мрію просто не прокинутись"),
    ("tr", "suicide", "her şey için teşekkürler arkadaşlar, elveda"),
    ("uk", "suicide", "дякую за все, не сумуйте"),
    ("ar", "suicide", "choukran 3la kolchi, beslama"),
    ("tr", "suicide", "köpeğimi teyzeme verdim, bir şey olursa diye"),
    ("uk", "suicide", "віддала собаку подрузі про всяк випадок"),
    ("ar", "suicide", "خليت المش عند جارتي إلا وقع ليا شي"),
    ("tr", "suicide", "doğum günümü göremem bence"),
    ("uk", "suicide", "не уявляю себе живим через рік"),
    ("ar", "suicide", "ما كنشوف راسي عايش حتى للصيف"),
    ("tr", "suicide", "mücadele etmekten yoruldum"),
    ("uk", "suicide", "втомилась від боротьби"),
    ("ar", "suicide", "عييت من الحرب مع راسي"),
    ("ar", "suicide", "ليش انا بعدني عايش"),
    ("tr", "self_harm", "jileti özlüyorum"),
    ("ar", "overdose", "شحال من حبة دوليبران باش ما نفيقش"),
    ("uk", "overdose", "хай серце просто зупиниться"),
    ("tr", "acute_danger", "nerede yaşadığımı biliyorlar"),
    ("uk", "acute_danger", "він знає де я живу"),
    ("ar", "acute_danger", "عرفو فين ساكنة"),
    # After batches 17-20: transliterated Ukrainian, Arabizi, the only way out.
    ("uk", "suicide", "vsim bude lehshe bez mene"),
    ("uk", "suicide", "на мій похорон ніхто б не прийшов"),
    ("tr", "suicide", "tek çare ölmek gibi geliyor"),
    ("ar", "suicide", "kolchi ghadi ykoun mzyan bla biya"),
    ("tr", "abuse_violence", "üvey babam içince korkuyorum"),
    ("uk", "abuse_violence", "коли вітчим п'є я ховаюсь у ванній"),
]

NOT_FLAGGED: list[tuple[str, str]] = [
    # A dose as prescribed, asking about the next one.
    ("uk", "випила 1 ібупрофен 400, чи можна ще через 8 годин?"),
    ("tr", "1 parol 500 aldım, akşam bir daha alabilir miyim"),
    ("ar", "خذيت حبة بنادول ٥٠٠، اقدر اخذ وحدة كمان بعد ٨ ساعات؟"),
    # Crises told as over.
    ("uk", "минулого року я хотів померти, а зараз краще, ходжу до психолога"),
    ("uk", "я вже два місяці не ріжу себе"),
    ("tr", "iki yıl önce intihar girişimim oldu ama artık iyiyim"),
    ("ar", "كنت بدي موت من سنتين، هلأ الحمدلله أحسن"),
    ("ar", "صاحبي حاول ينتحر من زمان ودابا مزيان"),
    # The helpline's number for someone else.
    ("uk", "дайте номер лінії запобігання самогубствам для подруги"),
    ("tr", "intihar hattı numarası ne, arkadaşıma vermek istiyorum"),
    ("ar", "شو رقم خط الانتحار؟ بدي اعطيه لصاحبي"),
    # A thing that is 'so bad one wants to hang oneself'.
    ("uk", "ця пара така нудна що хочеться повіситися"),
    ("ar", "بدي انتحر من كتر الواجب"),
    # Everyday look-alikes of the new kinds.
    ("uk", "забрала паспорт у консульстві"),
    ("tr", "pasaportumu konsolosluktan aldım"),
    ("tr", "kardeşim 5 yaşında, tek başına ayakkabısını bağlıyor"),
    ("ar", "ختي الصغيرة كتلعب بوحدها"),
    ("tr", "saç düzleştiriciyle elimi yaktım"),
    ("tr", "mutfakta çalışırken elimi kestim"),
    ("uk", "кожного вечора читаю роман"),
    ("tr", "eski kıyafetlerimi verdim, hepsi küçük geldi"),
    ("uk", "не хочу йти на пару, краще в бібліотеку"),
    # Fifth round: school work, sermons, films and songs, past violence now over, hyperbole.
    ("uk", "готую проект для школи про профілактику суїцидів"),
    ("tr", "sunum için intihar yardım hattının numarası ne"),
    ("ar", "خطبة الإمام اليوم كانت على الانتحار"),
    ("tr", "ölmek istiyorum diyen şarkıyı dinliyorum"),
    ("uk", "колишній мене бив колись, але я пішла від нього"),
    ("ar", "سقطت فالامتحان، الوالدين غادي يقتلوني"),
    ("tr", "mafya dizisinde her bölüm birini vuruyorlar"),
    ("ar", "غادي نموت من الحر اليوم"),
    # Sixth round: look-alikes of the new kinds.
    ("tr", "ben yokken kedime komşum bakıyor"),
    ("uk", "без мене на роботі буде важко, я ж одна бухгалтерка"),
    ("ar", "الشنطة تقيلة على ضهري"),
    ("tr", "her şey için teşekkürler, yarın görüşürüz"),
    ("uk", "дякую за все, до завтра"),
    ("ar", "شكرا على كلشي، نتلاقاو غدا"),
    ("tr", "tatile gidiyorum, kedimi ablama bıraktım"),
    ("uk", "поїхала на вихідні, кота залишила сусідці"),
    ("tr", "sınavlarla mücadele etmekten yoruldum ama bitti sayılır"),
    ("uk", "втомилась від роботи, хочу у відпустку"),
    ("ar", "تعبت من الشغل اليوم"),
    ("tr", "galatasaray yine kaybetti olsam daha iyi"),
    ("uk", "вона знає де я живу, приходь в гості"),
    ("uk", "я тут довго не буду, тільки заберу документи"),
    ("tr", "bu işte ben yokum artık, siz devam edin"),
    ("ar", "ما كنشوف حتى حل لهاد التمرين"),
    ("tr", "tatil planımı yaptım, izin zamanını bekliyorum"),
    ("uk", "на похорон дідуся прийшло багато людей"),
]


@pytest.mark.parametrize(("language", "category", "text"), FLAGGED)
def test_clear_signal_is_flagged(rules: Screener, language: str, category: str, text: str) -> None:
    result = rules.screen(text)
    assert result.flagged, (language, text)
    assert result.tier == "crisis", (language, text, result.tier)
    assert result.category in (category, "suicide", "acute_danger"), (text, result.category)


@pytest.mark.parametrize(("language", "category", "text"), CHECKED)
def test_indirect_signal_is_flagged(
    rules: Screener, language: str, category: str, text: str
) -> None:
    result = rules.screen(text)
    assert result.flagged, (language, text)
    del category  # the tier may be crisis when a clearer rule fires too


@pytest.mark.parametrize(("language", "text"), NOT_FLAGGED)
def test_look_alike_is_not_flagged(rules: Screener, language: str, text: str) -> None:
    result = rules.screen(text)
    assert not result.flagged, (language, text, [m.pattern for m in result.matches])


def test_the_arabic_comma_ends_a_clause_so_hours_are_no_pills(rules: Screener) -> None:
    # One tablet of 1 g, "after 6 hours we'll see": the ، ends the clause, so the 6 belongs to
    # the hours (before, it was read as 6 pills beside "took" and gave the crisis reply).
    assert not rules.screen("خذيت حبة باراسيتامول ١ غرام، بعد ٦ ساعات نشوف كيفاش نحس").flagged
    assert rules.screen("خذيت ٢٠ حبة باراسيتامول").tier == "crisis"


# Sixth round (after batches 15, 16, 23 and 24; lines written for these tests).  False alarms of
# the rules by kind: a crisis told as over (``resolved``), someone else's crisis in the third
# person, what a help line does, media and courses, jokes and hyperbole, play.
OVER_OR_NOT_MINE: list[tuple[str, str]] = [
    # Told as over: a time in the past, then "now it is fine".
    ("tr", "geçen yıl intihar girişiminde bulundum, şimdi çok daha iyiyim, staj arıyorum"),
    ("tr", "lisede kendimi kesiyordum, yıllardır iyiyim"),
    ("uk", "три роки тому я наковталась таблеток, зараз все добре, вчуся"),
    ("uk", "в школі різала себе, шрами вже старі, шукаю квартиру"),
    ("ar", "من سنتين حاولت انتحر، هلأ أنا منيحة وعم ادرس"),
    ("ar", "joj snin hadi drt overdose, daba ana mzyana w khddama"),
    ("ar", "زوجي السابق كان يضربني، هذا صار من زمان"),
    # Someone else's wish, in the third person.
    ("tr", "kuzenim bana ölmek istediğini yazdı, ne yapmalıyım"),
    ("tr", "arkadaşım kendine zarar veriyormuş, nasıl yardım ederim"),
    ("uk", "подруга каже що хоче вмерти, як їй допомогти?"),
    ("ar", "صاحبتي قالتلي إنها بدها تنتحر، كيف بساعدها؟"),
    # What a help line does; school tasks; media and courses.
    ("tr", "intihar yardım hattını arayınca ne oluyor, ücretsiz mi"),
    ("tr", "ödevim intihar oranları hakkında, kaynak lazım"),
    ("uk", "дивилися на курсі фільм про передозування, цікаво"),
    ("ar", "chno numéro dyal ligne d suicide? bghitha l projet f lycée"),
    ("ar", "قرأت قصة عن شاب انتحر، حزينة كتير"),
    # Jokes and hyperbole: a game lost, a threat said laughing, a thing that "will kill me".
    ("tr", "valorantta yenildim intihar edicem 😂"),
    ("tr", "patronum geç kalırsam beni öldürür"),
    ("uk", "ця граматика мене вб'є"),
    ("ar", "ghadi nmout bj3, ma klit walo"),
    ("ar", "بغيت نموت ههه سقطت مرة أخرى"),
    # Play: a pillow or a ball.
    ("tr", "kardeşim yastıkla vurdu bana, kahkaha attık"),
    ("uk", "брат вдарив мене подушкою"),
    ("ar", "اختي ضربتني بالمخدة"),
]

# ... and a real signal beside any of those kinds still flags.
STILL_FLAGGED: list[tuple[str, str]] = [
    (
        "tr",
        "geçen yıl intihar girişiminde bulundum, şimdi iyiyim ama bu gece kendimi öldürmek isterim",
    ),
    ("tr", "intihar edicem şaka değil"),
    ("tr", "her şeyi kaybettim intihar edicem"),
    ("tr", "ödevimi yapamıyorum intihar etmek istiyorum"),
    ("uk", "два роки тому різала себе, зараз все добре, але сьогодні я хочу померти"),
    ("uk", "після роботи він мене вб'є"),
    ("uk", "подруга хоче покінчити з собою, і я теж хочу покінчити з собою"),
    ("ar", "كنت تعبانة، هلأ أحسن بس بدي انتحر الليلة"),
    ("ar", "بدي موت ههه لا بجد بدي موت"),
    ("ar", "زوجي كان يضربني وهلأ أنا بخير بس امبارح ضربني مرة ثانية"),
]

# Indirect signals by kind that no rule named (Turkish and Arabic).
CHECKED_ROUND6: list[tuple[str, str]] = [
    ("tr", "telefonumu kardeşime verdim, artık lazım olmıcak"),
    ("tr", "sabah uyanmasam hiç fark etmez aslında"),
    ("tr", "yaşamak için hiç sebebim kalmadı"),
    ("tr", "kara düşünceler geri geldi"),
    ("tr", "herkese helallik mesajı attım"),
    ("tr", "yalnızken kendime bişey yapmak geliyor aklıma"),
    ("tr", "her gece ölümü düşünüyom"),
    ("ar", "ma b9a 3ndi 7ta sabab bach n3ich"),
    ("ar", "kanfker f lmout bzaf"),
    ("ar", "بتمنى نام وما فيق"),
    ("ar", "dima kanlbs kmam twal 7ta f sif"),
    ("ar", "ghedda ma b9itch ghadi nkoun hna"),
]

# Everyday look-alikes of those signals.
NOT_CHECKED_ROUND6: list[tuple[str, str]] = [
    ("tr", "bu kitap bana lazım olmayacak, kütüphaneye geri verdim"),
    ("tr", "bu sınav haftası bitsin artık"),
    ("tr", "tatile gidiyorum, benden haber alamazsınız bir hafta"),
    ("tr", "kola içtim kalbim hızlı atıyor"),
    ("ar", "ghda ghadi nkoun hna m3a l3achra"),
    ("ar", "ghda ma ghadich nkoun hna, 3ndi exam"),
    ("ar", "خذيت حبوب احتياطا للسفر"),
]


@pytest.mark.parametrize(("language", "text"), OVER_OR_NOT_MINE)
def test_crisis_told_as_over_or_not_mine_is_not_flagged(
    rules: Screener, language: str, text: str
) -> None:
    assert not rules.screen(text).flagged, f"{language}: {text}"


@pytest.mark.parametrize(("language", "text"), STILL_FLAGGED)
def test_a_real_signal_beside_a_benign_kind_still_flags(
    rules: Screener, language: str, text: str
) -> None:
    assert rules.screen(text).flagged, f"{language}: {text}"


@pytest.mark.parametrize(("language", "text"), CHECKED_ROUND6)
def test_indirect_signal_of_round6_is_flagged(rules: Screener, language: str, text: str) -> None:
    assert rules.screen(text).flagged, f"{language}: {text}"


@pytest.mark.parametrize(("language", "text"), NOT_CHECKED_ROUND6)
def test_look_alike_of_round6_is_not_flagged(rules: Screener, language: str, text: str) -> None:
    assert not rules.screen(text).flagged, f"{language}: {text}"


# Thirteenth round (tuning batches 67 and 68; lines written for these tests).  Signal kinds the
# rules missed, each beside an everyday look-alike: coercion and exploitation (sex demanded for
# rent, work without pay for a debt, papers kept by the boss, being locked in, a threat to find
# my family if I leave, a marriage or a trip against my will), a blow to a pregnant belly, a
# wish to be rid of this life, and indirect signals (a sleep without waking, painless ways, "I
# won't need it for long anyway", a farewell, things given away "so all is in order after me").
THIRTEENTH_ROUND: list[tuple[str, str, str]] = [
    ("ar", "صاحبي كيخلصني مزيان فالخدمة ديالو", "صاحبي كيجبرني ننعس مع الرجال باش نخلص الكرا"),
    (
        "ar",
        "كنخدم فالمطعم و كنخلص الكرا بوحدي",
        "كنخدم عند خالتي بلا فلوس باش نخلص الدين ديال السفر",
    ),
    ("ar", "المدير شاف الباسبور ديالي فالقنصلية", "المدير شاد ليا الباسبور و ما بغاش يرجعو"),
    ("ar", "الا مشيت للدار غادي نلقى عائلتي", "قال ليا الا هربت غادي يلقى اهلي"),
    ("ar", "بابا لقا ليا عريس مزيان و انا فرحانة", "جابو ليا عريس فالبلاد و قالو غادي نبقى تما"),
    (
        "ar",
        "3ndi papiers w khddam m3a patron mzyan",
        "lpatron kaykhdmna bla papiers w kaygol ghadi y3ayet l police",
    ),
    ("ar", "صاحب الدار قفل الباب ديال الكراج", "مول الخدمه قافل عليا فالمخزن"),
    ("ar", "كنحلم بنعسة طويلة فالويكاند", "كنحلم بنعسة ما فيهاش فيقان"),
    (
        "ar",
        "كنقلب على طريقة ما كتوجعش باش نحيد الوشم",
        "كنقلب على طرق بلا وجع، ما تسولنيش علاش",
    ),
    (
        "ar",
        "لن أحتاج إلى السيارة لفترة طويلة، سأسافر",
        "لن أحتاج إلى غرفة لفترة طويلة على أي حال",
    ),
    ("ar", "كنشوف فالتلفون حتى الصباح", "كنشوف فالموس كل ليلة"),
    (
        "tr",
        "bebek karnımda tekmeliyor, 6 aylık hamileyim",
        "sevgilim karnıma tekme attı, hamileyim",
    ),
    ("tr", "patron yol paramı karşıladı, çok iyi biri", "patron yol paramı borç diye yazıyor"),
    ("tr", "işten ayrılırsam ailemi özleyeceğim", "işten ayrılırsam ailemi bulacağını söylüyor"),
    (
        "tr",
        "dönüş biletim yok, otobüsle döneceğim",
        "dönüş biletim yok, babam orada beni evlendirecekmiş",
    ),
    ("tr", "bu hayattan çok memnunum", "bu hayattan kurtulmak istiyorum artık"),
    (
        "tr",
        "bu şehirde kalacağımı sanmıyorum, başka yere taşınıyorum",
        "bu dünyada kalacağımı sanmıyorum, yoruldum",
    ),
    ("tr", "hapse girmektense cezayı öderim", "hapse girmektense öbür yolu seçerim"),
    ("tr", "her şey için teşekkür ederim", "her şey için artık çok geç"),
    (
        "uk",
        "документи в мене, а борг за житло я погашу в березні",
        "паспорт у роботодавця, каже віддасть як відпрацюю борг за квартиру",
    ),
    (
        "uk",
        "попрощалася з колегами, переходжу на нову роботу",
        "попрощалась з усіма, сказала лихом не згадуйте",
    ),
    ("uk", "роздаю старий одяг, сестрі ще підійде", "роздаю речі, щоб після мене був порядок"),
]


@pytest.mark.parametrize(("language", "look_alike", "signal"), THIRTEENTH_ROUND)
def test_a_signal_kind_of_the_thirteenth_round_flags_and_its_look_alike_passes(
    rules: Screener, language: str, look_alike: str, signal: str
) -> None:
    assert not rules.screen(look_alike).flagged, f"{language}: {look_alike}"
    assert rules.screen(signal).flagged, f"{language}: {signal}"
