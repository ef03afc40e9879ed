from django.urls import URLPattern, URLResolver

app_name = "pro"

urlpatterns: list[URLPattern | URLResolver] = []
