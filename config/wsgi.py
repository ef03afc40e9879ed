import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.base")
application = get_wsgi_application()

from config.safety import refuse_unsafe_settings  # noqa: E402

# The deployment's final settings (its own module may change config.base's): refuse to serve
# with a weak secret key or a proxy header believed from anyone.
refuse_unsafe_settings()
