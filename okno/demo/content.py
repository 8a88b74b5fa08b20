"""Demo content of the public site: information pages, service passports, regulatory documents, the FAQ,
region outlines of the demo branches and the coordinates of the demo offices.

:func:`seed_content` is idempotent: it creates what is missing (matched by slug, title or question) and
leaves rows that exist as they are, so an editor's changes in the admin survive a second run. Figures
specific to the demo (fees, the regional regulator's order) are fictional and marked so; the regulations
named are the real federal ones.
"""

from __future__ import annotations

import datetime as dt
import math
import zlib
from dataclasses import dataclass

from django.db import transaction

from okno.content.choices import Audience, DocumentCategory, FaqTopic, ReceptionForm
from okno.content.models import Document, FaqEntry, InfoPage, RegionOutline, ServicePassport, ServiceStage
from okno.demo import words
from okno.org.models import Branch, Office

RULES_861 = "Правила технологического присоединения (постановление Правительства РФ от 27.12.2004 № 861)"
RULES_442 = "Основные положения функционирования розничных рынков (постановление Правительства РФ от 04.05.2012 № 442)"

# --- information pages ------------------------------------------------------------------------------

PAGES: list[dict[str, str]] = [
    {
        "slug": "individuals",
        "title": "Физическим лицам",
        "title_en": "For individuals",
        "summary": "Подключение дома, дачи или гаража, приборы учёта, обращения и личный кабинет.",
        "summary_en": "Connecting a house, a cottage or a garage, meters, appeals and the personal cabinet.",
        "body": """## Подключение к электрическим сетям
Если вы строите дом, дачу или гараж и вам нужно до 15 кВт для бытовых нужд, подайте заявку на технологическое присоединение через личный кабинет или в любом офисе обслуживания. Договор и технические условия появятся в личном кабинете, договор считается заключённым со дня оплаты счёта.

- мощность до 15 кВт включительно, третья категория надёжности;
- плата — по льготной ставке за 1 кВт, установленной региональным органом регулирования;
- срок — не более 4 месяцев, если до наших сетей не дальше 300 м в городе и 500 м в сельской местности.

## Приборы учёта
С 1 июля 2020 года установку, замену и поверку счётчиков в частных домах выполняет сетевая организация за свой счёт. Если счётчик вышел из строя или истёк срок поверки, сообщите нам — мы заменим его бесплатно.

## Показания и оплата
Передавайте показания с 15 по 25 число каждого месяца: в личном кабинете, по телефону горячей линии или через терминал в офисе.

## Если нет света
Проверьте [карту отключений](/outages/) — возможно, по вашему адресу идут плановые работы или уже устраняется авария. Если вашего адреса там нет, позвоните на горячую линию.""",
        "body_en": """## Grid connection
Building a house, a cottage or a garage and need up to 15 kW for household use? Apply for grid connection in the personal cabinet or at any office.

- up to 15 kW, third reliability category;
- fee at the preferential rate per kW set by the regional regulator;
- at most 4 months when our grid is within 300 m in towns or 500 m in the countryside.

## Meters
Since 1 July 2020 the grid company installs, replaces and verifies meters in private houses at its own expense.

## If there is no power
See the [outage map](/outages/): planned works or a repair may already be under way. If your address is not there, call the hotline.""",
    },
    {
        "slug": "legal-entities",
        "title": "Юридическим лицам и индивидуальным предпринимателям",
        "title_en": "For legal entities and sole proprietors",
        "summary": "Технологическое присоединение, договоры, учёт электроэнергии и качество обслуживания.",
        "summary_en": "Grid connection, contracts, metering and service quality.",
        "body": """## Технологическое присоединение
Заявку можно подать онлайн с электронной подписью или в офисе обслуживания. Для заявителей до 150 кВт действует упрощённый порядок: договор и технические условия размещаются в личном кабинете, а мероприятия выполняются не более 4 месяцев.

1. Подайте заявку с планом расположения энергопринимающих устройств и правоустанавливающими документами.
2. Оплатите счёт — договор считается заключённым.
3. Выполните мероприятия по техническим условиям на своём участке.
4. Уведомите нас о выполнении — мы проведём осмотр и подключим объект.

## Плата за присоединение
Размер платы рассчитывается по стандартизированным тарифным ставкам или ставкам за единицу максимальной мощности, утверждённым региональным органом регулирования тарифов.

## Документы
Типовые формы заявок и договоров — в разделе [«Нормативные документы»](/documents/).""",
        "body_en": """## Grid connection
Apply online with an electronic signature or at an office. Up to 150 kW a simplified procedure applies: the contract and technical conditions are placed in the personal cabinet, works take at most 4 months.

## Fee
The fee is calculated by the standardised rates approved by the regional tariff regulator.""",
    },
    {
        "slug": "reissue",
        "title": "Переоформление документов о технологическом присоединении",
        "title_en": "Re-issue of connection documents",
        "summary": "При смене собственника, утрате документов или перераспределении мощности.",
        "summary_en": "When the owner changes, documents are lost or capacity is redistributed.",
        "body": """Переоформить документы о технологическом присоединении (акт об осуществлении технологического присоединения, технические условия) нужно, если:

- сменился собственник или иной законный владелец объекта;
- документы утрачены или повреждены;
- изменились наименование заявителя или адрес объекта;
- вы перераспределяете максимальную мощность в пользу другого лица.

Заявление подаётся в офисе обслуживания или онлайн. К нему прилагаются копии документа, удостоверяющего личность (для организаций — учредительных документов), и документа о праве собственности на объект.

**Переоформление выполняется без взимания платы.** Если прежние документы сохранились, новые выдаются не позднее 7 дней со дня обращения; при восстановлении утраченных документов по архиву — не позднее 15 дней.""",
        "body_en": """Connection documents are re-issued when the owner changes, documents are lost, the applicant's name or the address changes, or capacity is redistributed. **Re-issue is free of charge.**""",
    },
    {
        "slug": "power-quality",
        "title": "Качество электроэнергии",
        "title_en": "Power quality",
        "summary": "Показатели качества по ГОСТ 32144-2013 и порядок рассмотрения жалоб.",
        "summary_en": "Quality indicators under GOST 32144-2013 and how complaints are handled.",
        "body": """Показатели качества электрической энергии в сетях общего назначения установлены ГОСТ 32144-2013. Для бытовых потребителей напряжение в розетке должно составлять 230 В; допустимое отклонение — не более ±10 % в течение 100 % времени интервала в одну неделю.

## Признаки некачественной электроэнергии
- лампы мигают или светят тускло;
- бытовая техника отключается или не включается;
- напряжение заметно меняется при включении мощных приборов.

## Как пожаловаться
Заполните форму жалобы — обращение будет зарегистрировано, вы получите номер и срок ответа. Специалисты установят регистратор показателей качества на 7 суток, по результатам вы получите акт. Если нарушение подтвердится, мы устраним его причину, а плата за электроэнергию за период ненадлежащего качества будет уменьшена в соответствии с Правилами предоставления коммунальных услуг (постановление Правительства РФ № 354).""",
        "body_en": """Power quality indicators are set by GOST 32144-2013: 230 V at the socket, deviation within ±10 %. File a complaint: we register it, measure the voltage for 7 days and reduce the charge for the period of poor quality when the violation is confirmed.""",
    },
    {
        "slug": "theft",
        "title": "Хищение электроэнергии",
        "title_en": "Electricity theft",
        "summary": "Как сообщить о безучётном и бездоговорном потреблении и о вознаграждении.",
        "summary_en": "How to report unmetered or illegal consumption, and the reward.",
        "body": """Хищение электроэнергии — это подключение к сетям без договора (бездоговорное потребление) или вмешательство в работу прибора учёта (безучётное потребление). Незаконные подключения перегружают сети, приводят к авариям и пожарам, а потери оплачивают добросовестные потребители.

## Как сообщить
- через форму на сайте — можно анонимно;
- по телефону горячей линии;
- в любом офисе обслуживания.

Укажите адрес, признаки незаконного подключения (наброс на провода, подключение до счётчика, сорванные пломбы) и, если можно, приложите фотографии.

## Вознаграждение
Если сведения подтвердятся и по ним будет составлен акт о неучтённом потреблении, автор сообщения, оставивший контакты, получает вознаграждение — **10 % от суммы, взысканной по акту, но не более 20 000 ₽** (условия демонстрационной компании). Анонимные сообщения тоже проверяются, но вознаграждение по ним не выплачивается.""",
        "body_en": """Theft is consumption without a contract or tampering with a meter. Report it on the site (anonymously if you wish), by phone or at an office. **Reward: 10 % of the amount recovered, up to 20,000 ₽** (demo company's terms), for reports with contact details.""",
    },
]

# --- service passports -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    title: str
    deadline: str
    legal_basis: str
    title_en: str = ""
    deadline_en: str = ""
    description: str = ""


PASSPORTS: list[dict] = [
    {
        "slug": "connection-individual-15kw",
        "title": "Технологическое присоединение энергопринимающих устройств физических лиц до 15 кВт",
        "title_en": "Grid connection of an individual's installations up to 15 kW",
        "audience": Audience.INDIVIDUALS,
        "form": ReceptionForm.CONNECTION_INDIVIDUAL,
        "order": 10,
        "summary": "Подключение жилого дома, садового дома, гаража для бытовых нужд.",
        "summary_en": "Connecting a house, a garden house or a garage for household use.",
        "applicants": "Физические лица, присоединяющие энергопринимающие устройства максимальной мощностью до 15 кВт включительно (с учётом ранее присоединённой) по третьей категории надёжности для бытовых и иных нужд, не связанных с предпринимательской деятельностью.",
        "applicants_en": "Individuals connecting up to 15 kW (third reliability category) for household use.",
        "fee": "По льготной ставке за 1 кВт запрашиваемой максимальной мощности, установленной региональным органом регулирования тарифов. В демонстрационном регионе — 3 000 ₽ за 1 кВт с НДС.",
        "fee_en": "At the preferential rate per kW set by the regional regulator; in the demo region 3,000 ₽ per kW incl. VAT.",
        "conditions": "- расстояние от границ участка до объектов сетевой организации нужного класса напряжения — не более 300 м в городах и 500 м в сельской местности;\n- у заявителя есть права на земельный участок или объект.",
        "result": "Подписанный акт об осуществлении технологического присоединения, установленный интеллектуальный прибор учёта, фактическая подача напряжения.",
        "result_en": "A signed act of grid connection, a smart meter installed, power supplied.",
        "total_term": "не более 4 месяцев со дня заключения договора",
        "total_term_en": "at most 4 months from the contract",
        "documents": "- заявка;\n- план расположения энергопринимающих устройств;\n- копия документа о праве на земельный участок или объект;\n- копия паспорта.",
        "legal_basis": RULES_861,
        "stages": [
            Stage(
                "Подача заявки через личный кабинет или в офисе обслуживания",
                "в любое время",
                "п. 8, 10, 14 Правил ТП",
                "Application in the cabinet or at an office",
                "any time",
            ),
            Stage(
                "Размещение в личном кабинете условий договора, технических условий и счёта",
                "10 рабочих дней со дня получения заявки",
                "п. 15 Правил ТП",
                "Contract, technical conditions and invoice in the cabinet",
                "10 working days",
            ),
            Stage(
                "Оплата счёта заявителем (договор считается заключённым)",
                "5 рабочих дней со дня размещения счёта",
                "п. 103, 104 Правил ТП",
                "Payment of the invoice (the contract is concluded)",
                "5 working days",
            ),
            Stage(
                "Выполнение мероприятий по техническим условиям сетевой организацией и заявителем",
                "в пределах 4 месяцев со дня заключения договора",
                "п. 16 Правил ТП",
                "Works under the technical conditions",
                "within 4 months",
            ),
            Stage(
                "Фактическое присоединение, установка прибора учёта, размещение акта о ТП в личном кабинете",
                "в пределах общего срока",
                "п. 18, 110 Правил ТП",
                "Connection, meter installation, act in the cabinet",
                "within the total term",
            ),
        ],
    },
    {
        "slug": "connection-legal-150kw",
        "title": "Технологическое присоединение юридических лиц и ИП до 150 кВт",
        "title_en": "Grid connection of legal entities and sole proprietors up to 150 kW",
        "audience": Audience.LEGAL,
        "form": ReceptionForm.CONNECTION_LEGAL,
        "order": 20,
        "summary": "Магазины, мастерские, небольшие производства и объекты сельского хозяйства.",
        "summary_en": "Shops, workshops, small production and farms.",
        "applicants": "Юридические лица и индивидуальные предприниматели, присоединяющие энергопринимающие устройства максимальной мощностью свыше 15 и до 150 кВт включительно по второй или третьей категории надёжности.",
        "applicants_en": "Legal entities and sole proprietors connecting over 15 and up to 150 kW.",
        "fee": "По стандартизированным тарифным ставкам или ставкам за единицу максимальной мощности, утверждённым региональным органом регулирования. Возможна беспроцентная рассрочка на 3 года.",
        "fee_en": "By the standardised rates approved by the regional regulator; interest-free instalments for 3 years are possible.",
        "conditions": "Расстояние до объектов сетевой организации — не более 300 м в городах и 500 м в сельской местности; иначе срок увеличивается до 1 года.",
        "result": "Акт об осуществлении технологического присоединения, установленный прибор учёта, заключённый договор энергоснабжения.",
        "result_en": "Act of grid connection, meter installed, supply contract concluded.",
        "total_term": "не более 4 месяцев со дня заключения договора",
        "total_term_en": "at most 4 months from the contract",
        "documents": "- заявка, подписанная руководителем или представителем по доверенности;\n- план расположения энергопринимающих устройств;\n- перечень и мощность энергопринимающих устройств;\n- копия документа о праве на объект.",
        "legal_basis": RULES_861,
        "stages": [
            Stage("Подача заявки", "в любое время", "п. 8, 9 Правил ТП", "Application", "any time"),
            Stage(
                "Размещение договора, технических условий и счёта в личном кабинете",
                "10 рабочих дней",
                "п. 15 Правил ТП",
                "Contract and conditions in the cabinet",
                "10 working days",
            ),
            Stage(
                "Оплата счёта (первого платежа при рассрочке)",
                "5 рабочих дней",
                "п. 103 Правил ТП",
                "Payment",
                "5 working days",
            ),
            Stage(
                "Выполнение мероприятий сторонами, уведомление о выполнении ТУ заявителем",
                "в пределах 4 месяцев",
                "п. 16, 85 Правил ТП",
                "Works and notice of completion",
                "within 4 months",
            ),
            Stage(
                "Осмотр, фактическое присоединение, акт о ТП",
                "10 рабочих дней со дня уведомления",
                "п. 18 Правил ТП",
                "Inspection, connection, act",
                "10 working days after the notice",
            ),
        ],
    },
    {
        "slug": "meter-installation",
        "title": "Установка и замена прибора учёта электроэнергии",
        "title_en": "Installation and replacement of an electricity meter",
        "audience": Audience.ALL,
        "form": ReceptionForm.METERING,
        "order": 30,
        "summary": "Установка, замена, поверка и опломбировка счётчиков в частных домах и у организаций.",
        "summary_en": "Installing, replacing, verifying and sealing meters.",
        "applicants": "Собственники и законные владельцы объектов, присоединённых к сетям компании (кроме многоквартирных домов, где учёт обеспечивает гарантирующий поставщик).",
        "applicants_en": "Owners of premises connected to our grid (except apartment blocks).",
        "fee": "Бесплатно: с 1 июля 2020 года приборы учёта устанавливаются и заменяются за счёт сетевой организации.",
        "fee_en": "Free of charge since 1 July 2020.",
        "result": "Установленный и допущенный в эксплуатацию прибор учёта, акт допуска.",
        "result_en": "A meter installed and admitted, with the admission act.",
        "total_term": "не более 6 месяцев со дня обращения",
        "total_term_en": "at most 6 months from the request",
        "legal_basis": "Федеральный закон от 27.12.2018 № 522-ФЗ; " + RULES_442,
        "stages": [
            Stage(
                "Регистрация обращения",
                "1 рабочий день",
                "п. 136 Основных положений",
                "Registration",
                "1 working day",
            ),
            Stage(
                "Согласование даты установки с заявителем",
                "10 рабочих дней",
                "п. 152 Основных положений",
                "Agreeing the date",
                "10 working days",
            ),
            Stage(
                "Установка, допуск в эксплуатацию, опломбировка",
                "в пределах 6 месяцев",
                "п. 153, 154 Основных положений",
                "Installation and admission",
                "within 6 months",
            ),
        ],
    },
    {
        "slug": "reissue",
        "title": "Переоформление документов о технологическом присоединении",
        "title_en": "Re-issue of connection documents",
        "audience": Audience.ALL,
        "form": ReceptionForm.REISSUE,
        "order": 40,
        "summary": "Смена собственника, восстановление утраченных документов, перераспределение мощности.",
        "summary_en": "New owner, lost documents, redistribution of capacity.",
        "applicants": "Собственник или иной законный владелец ранее присоединённого объекта.",
        "applicants_en": "The owner or lawful holder of a connected installation.",
        "fee": "Без взимания платы.",
        "fee_en": "Free of charge.",
        "result": "Переоформленный акт об осуществлении технологического присоединения.",
        "result_en": "A re-issued act of grid connection.",
        "total_term": "7 дней; при восстановлении документов по архиву — 15 дней",
        "total_term_en": "7 days; 15 days when restored from the archive",
        "legal_basis": RULES_861 + ", раздел VIII",
        "stages": [
            Stage(
                "Подача заявления с документами",
                "в любое время",
                "п. 59 Правил ТП",
                "Application",
                "any time",
            ),
            Stage(
                "Проверка документов и архивных данных",
                "до 5 дней",
                "п. 62 Правил ТП",
                "Check of documents and archive",
                "up to 5 days",
            ),
            Stage(
                "Выдача переоформленных документов",
                "не позднее 7 (15) дней со дня обращения",
                "п. 69 Правил ТП",
                "Issue of the documents",
                "within 7 (15) days",
            ),
        ],
    },
    {
        "slug": "power-quality-check",
        "title": "Проверка качества электроэнергии по обращению потребителя",
        "title_en": "Power quality check on a customer's complaint",
        "audience": Audience.ALL,
        "form": ReceptionForm.QUALITY_COMPLAINT,
        "order": 50,
        "summary": "Измерение показателей качества и устранение нарушений.",
        "summary_en": "Measuring quality indicators and removing violations.",
        "applicants": "Любой потребитель, присоединённый к сетям компании.",
        "applicants_en": "Any customer connected to our grid.",
        "fee": "Бесплатно.",
        "fee_en": "Free of charge.",
        "result": "Акт проверки с результатами измерений; при подтверждении нарушения — его устранение и перерасчёт платы.",
        "result_en": "A check report; when confirmed, the violation is removed and the charge recalculated.",
        "total_term": "ответ — не более 30 дней со дня регистрации обращения",
        "total_term_en": "answer within 30 days of registration",
        "legal_basis": "ГОСТ 32144-2013; Правила предоставления коммунальных услуг (постановление Правительства РФ от 06.05.2011 № 354)",
        "stages": [
            Stage(
                "Регистрация жалобы",
                "1 рабочий день",
                "Стандарт обслуживания",
                "Registration",
                "1 working day",
            ),
            Stage(
                "Выезд и установка регистратора показателей качества",
                "до 5 рабочих дней",
                "п. 105–110 Правил № 354",
                "Installing a recorder",
                "up to 5 working days",
            ),
            Stage(
                "Измерения",
                "7 суток",
                "ГОСТ 32144-2013, ГОСТ 30804.4.30-2013",
                "Measurements",
                "7 days",
            ),
            Stage(
                "Ответ заявителю с актом проверки",
                "в пределах 30 дней",
                "Федеральный закон от 02.05.2006 № 59-ФЗ",
                "Answer with the report",
                "within 30 days",
            ),
        ],
    },
]

# --- regulatory documents -----------------------------------------------------------------------------

DOCUMENTS: list[dict] = [
    {
        "title": "Федеральный закон «Об электроэнергетике»",
        "title_en": "Federal Law on the Electric Power Industry",
        "category": DocumentCategory.LAW,
        "number": "35-ФЗ",
        "date": dt.date(2003, 3, 26),
        "issuer": "Государственная Дума РФ",
        "url": "https://www.consultant.ru/document/cons_doc_LAW_41502/",
        "order": 10,
    },
    {
        "title": "Федеральный закон «О порядке рассмотрения обращений граждан Российской Федерации»",
        "title_en": "Federal Law on the Procedure for Considering Citizens' Appeals",
        "category": DocumentCategory.LAW,
        "number": "59-ФЗ",
        "date": dt.date(2006, 5, 2),
        "issuer": "Государственная Дума РФ",
        "url": "https://www.consultant.ru/document/cons_doc_LAW_59999/",
        "order": 20,
    },
    {
        "title": "Федеральный закон «О персональных данных»",
        "title_en": "Federal Law on Personal Data",
        "category": DocumentCategory.LAW,
        "number": "152-ФЗ",
        "date": dt.date(2006, 7, 27),
        "issuer": "Государственная Дума РФ",
        "url": "https://www.consultant.ru/document/cons_doc_LAW_61801/",
        "order": 30,
    },
    {
        "title": "Правила технологического присоединения энергопринимающих устройств потребителей электрической энергии",
        "title_en": "Rules of grid connection of consumers' installations",
        "category": DocumentCategory.DECREE,
        "number": "861",
        "date": dt.date(2004, 12, 27),
        "issuer": "Правительство РФ",
        "url": "https://www.consultant.ru/document/cons_doc_LAW_51030/",
        "order": 10,
    },
    {
        "title": "Основные положения функционирования розничных рынков электрической энергии",
        "title_en": "Basic provisions for retail electricity markets",
        "category": DocumentCategory.DECREE,
        "number": "442",
        "date": dt.date(2012, 5, 4),
        "issuer": "Правительство РФ",
        "url": "https://www.consultant.ru/document/cons_doc_LAW_130498/",
        "order": 20,
    },
    {
        "title": "Правила предоставления коммунальных услуг собственникам и пользователям помещений",
        "title_en": "Rules for the provision of utility services",
        "category": DocumentCategory.DECREE,
        "number": "354",
        "date": dt.date(2011, 5, 6),
        "issuer": "Правительство РФ",
        "url": "https://www.consultant.ru/document/cons_doc_LAW_114247/",
        "order": 30,
    },
    {
        "title": "ГОСТ 32144-2013. Нормы качества электрической энергии в системах электроснабжения общего назначения",
        "title_en": "GOST 32144-2013. Power quality limits in public power supply systems",
        "category": DocumentCategory.STANDARD,
        "number": "32144-2013",
        "date": dt.date(2013, 7, 22),
        "issuer": "Росстандарт",
        "url": "https://docs.cntd.ru/document/1200104301",
        "order": 10,
    },
    {
        "title": "Приказ комитета по тарифам Новоладожской области «Об установлении цен (тарифов) на электрическую энергию для населения» (демонстрационный)",
        "title_en": "Order of the regional tariff committee on household electricity prices (demo)",
        "category": DocumentCategory.TARIFF,
        "number": "312-п",
        "date": dt.date(2025, 12, 19),
        "issuer": "Комитет по тарифам Новоладожской области",
        "url": "https://szsk.example/documents/tariffs-2026.pdf",
        "order": 10,
    },
    {
        "title": "Стандарт качества обслуживания потребителей",
        "title_en": "Customer service quality standard",
        "category": DocumentCategory.COMPANY,
        "number": "СТО 01-2025",
        "date": dt.date(2025, 3, 1),
        "issuer": "АО «Северо-Западная сетевая компания»",
        "url": "https://szsk.example/documents/service-standard.pdf",
        "order": 10,
    },
    {
        "title": "Типовая форма заявки на технологическое присоединение (физические лица до 15 кВт)",
        "title_en": "Application template: grid connection of individuals up to 15 kW",
        "category": DocumentCategory.TEMPLATE,
        "url": "https://szsk.example/documents/application-15kw.docx",
        "order": 10,
    },
]

# --- FAQ ----------------------------------------------------------------------------------------------

FAQ: list[tuple[str, str, str, str, str]] = [
    # topic, question, answer, question_en, answer_en
    (
        FaqTopic.CONNECTION,
        "Сколько стоит подключение дома к электросетям?",
        "Для физических лиц до 15 кВт плата рассчитывается по льготной ставке за 1 кВт, установленной региональным органом регулирования. Подробности — в [паспорте услуги](/services/connection-individual-15kw/).",
        "How much does connecting a house cost?",
        "For individuals up to 15 kW the fee is the preferential rate per kW set by the regional regulator.",
    ),
    (
        FaqTopic.CONNECTION,
        "Какие документы нужны для подачи заявки на технологическое присоединение?",
        "- заявка;\n- план расположения энергопринимающих устройств;\n- копия документа о праве на участок или объект;\n- копия паспорта.",
        "Which documents are needed for a grid connection application?",
        "The application, a site plan, a title document and a copy of the passport.",
    ),
    (
        FaqTopic.CONNECTION,
        "Можно ли увеличить мощность уже подключённого дома?",
        "Да. Подайте заявку на увеличение максимальной мощности — порядок тот же, что и при новом присоединении; плата рассчитывается только за дополнительные киловатты.",
        "Can I increase the capacity of a connected house?",
        "Yes: apply for more capacity; you pay only for the additional kilowatts.",
    ),
    (
        FaqTopic.METERING,
        "Кто должен менять счётчик, если истёк срок поверки?",
        "В частных домах с 1 июля 2020 года прибор учёта заменяет сетевая организация за свой счёт. Оставьте заявку — мы согласуем дату замены.",
        "Who replaces the meter when its verification expires?",
        "In private houses the grid company replaces it at its own expense since 1 July 2020.",
    ),
    (
        FaqTopic.METERING,
        "Когда передавать показания счётчика?",
        "С 15 по 25 число каждого месяца — в личном кабинете, по телефону горячей линии или в офисе обслуживания.",
        "When should I hand in meter readings?",
        "From the 15th to the 25th of each month, in the cabinet, by phone or at an office.",
    ),
    (
        FaqTopic.METERING,
        "Что делать, если счётчик показывает слишком большой расход?",
        "Проверьте, не включены ли приборы, и снимите показания ночью, когда всё выключено. Если счётчик продолжает считать, подайте обращение — специалист проверит прибор учёта бесплатно.",
        "What if the meter shows too much consumption?",
        "Switch everything off and check it at night; if it still counts, file an appeal and we will check it for free.",
    ),
    (
        FaqTopic.BILLING,
        "Как оплатить электроэнергию без комиссии?",
        "Оплатите в личном кабинете картой или по QR-коду из квитанции в мобильном приложении банка.",
        "How can I pay without a commission?",
        "Pay in the personal cabinet or with the QR code on the invoice in your bank's app.",
    ),
    (
        FaqTopic.BILLING,
        "Почему начисление сделано по нормативу?",
        "Если показания не переданы, начисление производится по среднемесячному расходу, а затем — по нормативу потребления. Передайте показания, и перерасчёт будет сделан в следующем месяце.",
        "Why was I charged by the norm?",
        "Without readings we charge the monthly average, then the norm; hand in a reading and it is recalculated.",
    ),
    (
        FaqTopic.OUTAGES,
        "Где узнать о плановых отключениях электроэнергии?",
        "График плановых работ по населённым пунктам и улицам опубликован на странице [«Отключения»](/outages/). Подпишитесь на уведомления — мы сообщим об отключении по вашему адресу.",
        "Where can I find planned outages?",
        "See the [outages page](/outages/) and subscribe to notifications for your address.",
    ),
    (
        FaqTopic.OUTAGES,
        "Нет света: куда звонить?",
        "Сначала проверьте [страницу отключений](/outages/) — возможно, авария уже устраняется. Если вашего адреса там нет, позвоните на круглосуточную горячую линию или сообщите об отсутствии электроэнергии через форму на сайте.",
        "No power: whom should I call?",
        "Check the outages page first, then call the 24-hour hotline or report it on the site.",
    ),
    (
        FaqTopic.QUALITY,
        "Низкое напряжение в сети: что делать?",
        "Подайте жалобу на качество электроэнергии. Мы установим регистратор на 7 суток и по результатам устраним нарушение; за период ненадлежащего качества плата будет уменьшена.",
        "Low voltage: what should I do?",
        "File a power quality complaint; we measure for 7 days and fix the violation.",
    ),
    (
        FaqTopic.DOCUMENTS,
        "Я купил дом. Нужно ли переоформлять документы о технологическом присоединении?",
        "Да, рекомендуем переоформить акт о технологическом присоединении на нового собственника. Это бесплатно и занимает не более 7 дней.",
        "I bought a house. Should connection documents be re-issued?",
        "Yes, re-issue them to the new owner: free, within 7 days.",
    ),
    (
        FaqTopic.CABINET,
        "Как зарегистрироваться в личном кабинете?",
        "Укажите номер лицевого счёта и сумму последней квитанции, затем подтвердите вход кодом, который придёт на электронную почту или телефон.",
        "How do I sign up to the personal cabinet?",
        "Give your account number and the amount of the last invoice, then confirm with the one-time code.",
    ),
    (
        FaqTopic.OTHER,
        "Как сообщить о хищении электроэнергии?",
        "Через форму на сайте (можно анонимно), по телефону горячей линии или в офисе. За подтверждённые сведения предусмотрено вознаграждение — см. раздел [«Хищение электроэнергии»](/theft/).",
        "How do I report electricity theft?",
        "On the site (anonymously if you wish), by phone or at an office; confirmed reports are rewarded.",
    ),
]

# --- territory ------------------------------------------------------------------------------------------

OUTLINE_VERTICES = 14


def outline_points(code: str) -> list[tuple[float, float]]:
    """A simplified, irregular region border around the branch's grid box (stable for a code).

    The demo's regions are fictional; the outline only has to contain the box the grid and the offices
    are placed in, with a believable ragged edge.
    """
    south, north, west, east = words.GRID_BOXES.get(code, words.DEFAULT_GRID_BOX)
    clat, clon = (south + north) / 2, (west + east) / 2
    rlat, rlon = (north - south) * 0.85, (east - west) * 0.85
    seed = zlib.crc32(code.encode())
    points = []
    for i in range(OUTLINE_VERTICES):
        angle = 2 * math.pi * i / OUTLINE_VERTICES
        wobble = 0.85 + 0.3 * (((seed >> (i % 24)) & 0xFF) / 255)
        points.append(
            (
                round(clat + rlat * wobble * math.sin(angle), 4),
                round(clon + rlon * wobble * math.cos(angle), 4),
            )
        )
    return points


def office_position(code: str, address: str) -> tuple[float, float]:
    """A stable point inside the branch's box for an office, from its settlement (the first part of the
    address) — the same rule the demo grid uses for its settlements, so offices sit among the substations."""
    settlement = address.split(",")[0].strip()
    south, north, west, east = words.GRID_BOXES.get(code, words.DEFAULT_GRID_BOX)
    h = zlib.crc32(f"{code}/{settlement}".encode())
    fy, fx = (h & 0xFFFF) / 0xFFFF, (h >> 16) / 0xFFFF
    # A small offset from the settlement's centre, so the office does not sit on the power centre.
    return (
        round(south + (north - south) * (0.1 + 0.8 * fy) + 0.004, 6),
        round(west + (east - west) * (0.1 + 0.8 * fx) - 0.006, 6),
    )


def _seed_territory() -> tuple[int, int]:
    outlines = offices = 0
    for branch in Branch.objects.order_by("pk"):
        _outline, created = RegionOutline.objects.get_or_create(
            branch=branch,
            defaults={
                "name": branch.region or branch.name,
                "points": "\n".join(f"{lat} {lon}" for lat, lon in outline_points(branch.code)),
            },
        )
        outlines += int(created)
    first_branch = Branch.objects.order_by("pk").first()
    for office in Office.objects.filter(latitude__isnull=True, longitude__isnull=True).select_related(
        "service_centre__branch"
    ):
        home = office.service_centre.branch or first_branch
        if home is None:
            continue
        lat, lon = office_position(home.code, office.address)
        # Reference data of the demo, not a business aggregate: written like the demo's org builder does.
        Office.objects.filter(pk=office.pk).update(latitude=lat, longitude=lon)
        offices += 1
    return outlines, offices


# --- the seeder -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContentSeed:
    pages: int
    passports: int
    stages: int
    documents: int
    faq: int
    outlines: int
    offices_placed: int


def seed_content() -> ContentSeed:
    """Create the demo content that is missing; leave what exists (idempotent)."""
    with transaction.atomic():
        pages = sum(int(InfoPage.objects.get_or_create(slug=p["slug"], defaults=p)[1]) for p in PAGES)
        passports = stages = 0
        for p in PASSPORTS:
            fields = {k: v for k, v in p.items() if k != "stages"}
            passport, created = ServicePassport.objects.get_or_create(slug=p["slug"], defaults=fields)
            if created:
                passports += 1
                for order, s in enumerate(p["stages"], start=1):
                    ServiceStage.objects.create(
                        passport=passport,
                        order=order,
                        title=s.title,
                        title_en=s.title_en,
                        deadline=s.deadline,
                        deadline_en=s.deadline_en,
                        description=s.description,
                        legal_basis=s.legal_basis,
                    )
                    stages += 1
        documents = sum(
            int(Document.objects.get_or_create(title=d["title"], defaults=d)[1]) for d in DOCUMENTS
        )
        faq = 0
        for order, (topic, question, answer, question_en, answer_en) in enumerate(FAQ, start=1):
            _entry, created = FaqEntry.objects.get_or_create(
                topic=topic,
                question=question,
                defaults={
                    "answer": answer,
                    "question_en": question_en,
                    "answer_en": answer_en,
                    "order": order * 10,
                },
            )
            faq += int(created)
        outlines, offices = _seed_territory()
    return ContentSeed(pages, passports, stages, documents, faq, outlines, offices)


__all__ = ["ContentSeed", "outline_points", "seed_content"]
