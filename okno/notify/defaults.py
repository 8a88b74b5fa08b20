"""The shipped texts of every notice in Russian and English (loaded by a data migration, edited in the admin).

Placeholders (``{{ name }}``): company, number, kind, node, settlements, reason, start, end, etr, etr_phrase,
restored_at, date, address, confirm_url, code. Dates are rendered "24.11.2026 10:00" in the branch's time
zone. The e-mail footer with the unsubscribe link is added by :mod:`okno.notify.texts`, not here, so an
edited template cannot lose it.
"""

# code → language → (subject, short_text, text)
DEFAULTS: dict[str, dict[str, tuple[str, str, str]]] = {
    "outage_planned_ahead": {
        "ru": (
            "Плановое отключение электроэнергии {{ start }}",
            "{{ settlements }}: плановое отключение э/э {{ start }}–{{ end }}. {{ reason }} {{ company }}",
            "Здравствуйте!\n\n{{ date }} с {{ start }} до {{ end }} будет отключено электроснабжение: "
            "{{ settlements }} ({{ node }}).\nПричина: {{ reason }}.\nНомер работ: {{ number }}.\n\n"
            "Просим заранее подготовиться к отключению.\n{{ company }}",
        ),
        "en": (
            "Planned power outage on {{ start }}",
            "{{ settlements }}: planned power outage {{ start }}–{{ end }}. {{ reason }} {{ company }}",
            "Hello,\n\nThe power will be off on {{ date }} from {{ start }} to {{ end }}: "
            "{{ settlements }} ({{ node }}).\nReason: {{ reason }}.\nWorks number: {{ number }}.\n\n"
            "Please prepare in advance.\n{{ company }}",
        ),
    },
    "outage_planned_today": {
        "ru": (
            "Сегодня плановое отключение электроэнергии",
            "Сегодня {{ start }}–{{ end }} отключение э/э: {{ settlements }}. {{ company }}",
            "Здравствуйте!\n\nНапоминаем: сегодня с {{ start }} до {{ end }} будет отключено электроснабжение: "
            "{{ settlements }} ({{ node }}).\nПричина: {{ reason }}.\n{{ company }}",
        ),
        "en": (
            "Planned power outage today",
            "Today {{ start }}–{{ end }} power outage: {{ settlements }}. {{ company }}",
            "Hello,\n\nA reminder: the power will be off today from {{ start }} to {{ end }}: "
            "{{ settlements }} ({{ node }}).\nReason: {{ reason }}.\n{{ company }}",
        ),
    },
    "outage_unplanned": {
        "ru": (
            "Аварийное отключение электроэнергии",
            "Авария: нет э/э {{ settlements }}. {{ etr_phrase }}. {{ company }}",
            "Здравствуйте!\n\nС {{ start }} из-за аварии нет электроснабжения: {{ settlements }} ({{ node }}).\n"
            "Бригады работают над устранением. {{ etr_phrase }}.\nНомер: {{ number }}.\n{{ company }}",
        ),
        "en": (
            "Unplanned power outage",
            "Outage: no power in {{ settlements }}. {{ etr_phrase }}. {{ company }}",
            "Hello,\n\nSince {{ start }} there is no power because of a fault: {{ settlements }} ({{ node }}).\n"
            "Crews are working on it. {{ etr_phrase }}.\nNumber: {{ number }}.\n{{ company }}",
        ),
    },
    "outage_etr_changed": {
        "ru": (
            "Изменилось время восстановления электроснабжения",
            "{{ settlements }}: новое время восстановления э/э {{ etr }}. {{ company }}",
            "Здравствуйте!\n\nИзменилось ожидаемое время восстановления электроснабжения: {{ settlements }} "
            "({{ node }}).\nНовое время: {{ etr }}.\nНомер: {{ number }}.\n{{ company }}",
        ),
        "en": (
            "Restoration time changed",
            "{{ settlements }}: power now expected back by {{ etr }}. {{ company }}",
            "Hello,\n\nThe expected restoration time has changed: {{ settlements }} ({{ node }}).\n"
            "New time: {{ etr }}.\nNumber: {{ number }}.\n{{ company }}",
        ),
    },
    "outage_restored": {
        "ru": (
            "Электроснабжение восстановлено",
            "Есть свет! {{ settlements }}: э/э восстановлена {{ restored_at }}. {{ company }}",
            "Здравствуйте!\n\nЭлектроснабжение восстановлено {{ restored_at }}: {{ settlements }} ({{ node }}).\n"
            "Приносим извинения за неудобства.\n{{ company }}",
        ),
        "en": (
            "Power restored",
            "Power is back! {{ settlements }}: restored at {{ restored_at }}. {{ company }}",
            "Hello,\n\nThe power was restored at {{ restored_at }}: {{ settlements }} ({{ node }}).\n"
            "We apologise for the inconvenience.\n{{ company }}",
        ),
    },
    "mass_outage_authority": {
        "ru": (
            "Массовое отключение электроэнергии: {{ settlements }}",
            "{{ company }}: массовое отключение э/э {{ settlements }} с {{ start }}. {{ etr_phrase }}. № {{ number }}",
            "Уважаемый руководитель!\n\nСообщаем о массовом отключении электроснабжения с {{ start }}: "
            "{{ settlements }} ({{ node }}).\nПричина: {{ reason }}.\n{{ etr_phrase }}.\n"
            "Номер отключения: {{ number }}.\n\nДиспетчерская служба {{ company }}",
        ),
        "en": (
            "Mass power outage: {{ settlements }}",
            "{{ company }}: mass power outage in {{ settlements }} since {{ start }}. {{ etr_phrase }}. No. {{ number }}",
            "Dear head of administration,\n\nA mass power outage since {{ start }}: {{ settlements }} ({{ node }}).\n"
            "Reason: {{ reason }}.\n{{ etr_phrase }}.\nOutage number: {{ number }}.\n\n"
            "Dispatch service, {{ company }}",
        ),
    },
    "subscription_confirm": {
        "ru": (
            "Подтвердите подписку «Есть свет!»",
            "Код подтверждения подписки «Есть свет!»: {{ code }}. {{ company }}",
            "Здравствуйте!\n\nВы подписались на уведомления об отключениях электроэнергии по адресу {{ address }}.\n"
            "Чтобы подтвердить подписку, откройте ссылку:\n{{ confirm_url }}\nили введите код {{ code }}.\n\n"
            "Если вы не подписывались, просто проигнорируйте это письмо.\n{{ company }}",
        ),
        "en": (
            "Confirm your power outage notices subscription",
            "Your subscription confirmation code: {{ code }}. {{ company }}",
            "Hello,\n\nYou subscribed to power outage notices for {{ address }}.\n"
            "To confirm, open this link:\n{{ confirm_url }}\nor enter the code {{ code }}.\n\n"
            "If it was not you, just ignore this message.\n{{ company }}",
        ),
    },
}
