"""Routes of the assistant's chat, mounted at the root by ``okno.urls`` (namespace ``chat``):

* ``/chat/`` — the public site's chat; ``/chat/new/`` starts over;
* ``/cabinet/chat/`` — the personal cabinet's chat, ``/cabinet/chat/<public_id>/`` one conversation;
* ``/assistant/chats/`` — the staff inbox; ``/assistant/chats/<id>/`` one conversation;
* ``/assistant/telegram/webhook/`` — the Telegram bot's webhook.
"""

from django.urls import path

from okno.assistant.web import customer_views, inbox_views, webhook_views

app_name = "chat"
urlpatterns = [
    path("chat/", customer_views.site_chat, name="site"),
    path("chat/new/", customer_views.site_new, name="site_new"),
    path("cabinet/chat/", customer_views.cabinet_chat, name="cabinet"),
    path("cabinet/chat/new/", customer_views.cabinet_new, name="cabinet_new"),
    path("cabinet/chat/<uuid:public_id>/", customer_views.cabinet_conversation, name="cabinet_conversation"),
    path("cabinet/chat/<uuid:public_id>/messages/", customer_views.cabinet_messages, name="cabinet_messages"),
    path("assistant/chats/", inbox_views.inbox, name="inbox"),
    path("assistant/chats/<int:pk>/", inbox_views.conversation, name="inbox_conversation"),
    path("assistant/chats/<int:pk>/take/", inbox_views.take, name="inbox_take"),
    path("assistant/chats/<int:pk>/reply/", inbox_views.reply, name="inbox_reply"),
    path("assistant/chats/<int:pk>/close/", inbox_views.close, name="inbox_close"),
    path("assistant/telegram/webhook/", webhook_views.telegram_webhook, name="telegram_webhook"),
]
