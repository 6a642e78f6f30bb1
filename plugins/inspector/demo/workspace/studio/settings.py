"""Settings of the inspector's sample workspace: two apps, SQLite next to manage.py."""
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "inspector-demo-not-secret"
DEBUG = True
ALLOWED_HOSTS = []
INSTALLED_APPS = ["studio.catalog", "studio.ops"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": BASE_DIR / "db.sqlite3",
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
