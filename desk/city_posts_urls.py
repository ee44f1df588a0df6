from django.urls import path

from . import city_posts_views as views

app_name = "city-posts"
urlpatterns = [
    path("", views.posts, name="posts"),
    path("<int:pk>/hand-over/", views.hand_over, name="hand-over"),
]
