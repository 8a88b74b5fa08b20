"""API routes of the assistant's chat under ``/api/v1/``."""

from django.urls import path

from okno.assistant.api import views

urlpatterns = [
    path("chat/conversations/", views.ConversationStartView.as_view(), name="chat-conversations"),
    path(
        "chat/conversations/<str:public_id>/messages/",
        views.ConversationMessagesView.as_view(),
        name="chat-messages",
    ),
]
