"""The regulatory defaults as data (editable in the admin)."""

from django.db import migrations

POLICIES = [
    # name, kind, topic, channel, unit, amount, registration_days, warn_before_hours, legal basis
    ("Письменное обращение — 30 дней", "", "", "", "calendar_days", 30, 3, 72,
     "Федеральный закон № 59-ФЗ, ст. 8 и 12; стандарты обслуживания потребителей"),
    ("Вопрос по телефону — ответ в ходе звонка или обратный звонок в течение 4 часов", "info_request", "", "phone", "hours", 4, 0, 1,
     "Стандарт качества обслуживания клиентов"),
    ("Вопрос в контакт-центр — ответ в ходе звонка или обратный звонок в течение 4 часов", "info_request", "", "contact_center", "hours", 4, 0, 1,
     "Стандарт качества обслуживания клиентов"),
]

TEMPLATES = [
    ("outage-restored", "Электроснабжение восстановлено", "outage",
     "Уважаемый(ая) {customer}!\n\nНа ваше обращение № {number} от {received} сообщаем, что перерыв в электроснабжении по адресу {address} "
     "был вызван технологическим нарушением в распределительной сети. Электроснабжение восстановлено. Приносим извинения за доставленные неудобства."),
    ("info-general", "Ответ на запрос информации", "",
     "Уважаемый(ая) {customer}!\n\nНа ваше обращение № {number} от {received} сообщаем следующее:\n\n"),
    ("metering-check", "Проверка прибора учёта", "metering",
     "Уважаемый(ая) {customer}!\n\nПо вашему обращению № {number} от {received} специалисты проведут проверку прибора учёта по адресу {address}. "
     "О дате проверки вам сообщат по телефону не позднее чем за 3 рабочих дня."),
    ("complaint-rejected", "Жалоба не подтвердилась", "",
     "Уважаемый(ая) {customer}!\n\nПо результатам рассмотрения вашей жалобы № {number} от {received} нарушений не выявлено. "
     "Вы вправе обжаловать это решение, направив обращение с указанием его номера."),
]


def load(apps, schema_editor):
    DeadlinePolicy = apps.get_model("appeals", "DeadlinePolicy")
    AnswerTemplate = apps.get_model("appeals", "AnswerTemplate")
    for name, kind, topic, channel, unit, amount, reg, warn, basis in POLICIES:
        DeadlinePolicy.objects.get_or_create(
            name=name,
            defaults=dict(kind=kind, topic=topic, channel=channel, unit=unit, amount=amount, registration_days=reg,
                          warn_before_hours=warn, legal_basis=basis),
        )
    for code, title, topic, body in TEMPLATES:
        AnswerTemplate.objects.get_or_create(code=code, defaults=dict(title=title, topic=topic, body=body))


def unload(apps, schema_editor):
    apps.get_model("appeals", "DeadlinePolicy").objects.filter(name__in=[p[0] for p in POLICIES]).delete()
    apps.get_model("appeals", "AnswerTemplate").objects.filter(code__in=[t[0] for t in TEMPLATES]).delete()


class Migration(migrations.Migration):
    dependencies = [("appeals", "0002_initial")]
    operations = [migrations.RunPython(load, unload)]
