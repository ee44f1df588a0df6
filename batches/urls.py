from django.urls import path

app_name = "batches"
urlpatterns = []
