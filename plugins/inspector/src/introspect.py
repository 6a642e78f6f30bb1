# Inspector schema introspection, run as `python manage.py shell -c <this script>` with the
# workspace as the working directory. Read-only: it imports the project's apps and reports them.
# Prints one line, "INSPECTOR-INTROSPECTION-JSON:" followed by JSON:
#   {"django": "3.2.25", "root": "/abs/workspace",
#    "database": {"engine": "django.db.backends.sqlite3", "name": "/abs/db.sqlite3"},
#    "apps": [{"name": "studio.catalog", "label": "catalog", "path": "/abs/...",
#              "migrations_dir": "/abs/.../migrations" or null,
#              "models": [{"name": "Dataset", "fields": ["id", "slug", "owner_id"],
#                          "relations": ["Owner", "Snapshot"]}]}]}
# Only the project's own apps (those whose code lives inside the workspace) are reported.
import importlib
import json
import os

import django
from django.apps import apps as _inspector_apps
from django.conf import settings as _inspector_settings
from django.db.migrations.loader import MigrationLoader


def _inspector_inside(path, root):
    return path == root or path.startswith(root + os.sep)


def _inspector_migrations_dir(config):
    module_name, _explicit = MigrationLoader.migrations_module(config.label)
    if not module_name:
        return None
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    paths = list(getattr(module, "__path__", []))
    return os.path.realpath(paths[0]) if paths else None


def _inspector_model(model):
    meta = model._meta
    fields = [f.attname for f in meta.concrete_fields]
    fields += [f.name for f in meta.local_many_to_many]
    relations = []
    for field in meta.get_fields(include_hidden=False):
        related = getattr(field, "related_model", None)
        if not field.is_relation or related is None or isinstance(related, str):
            continue
        name = related._meta.object_name
        if related is not model and name not in relations:
            relations.append(name)
    return {"name": meta.object_name, "fields": fields, "relations": relations}


def _inspector_report():
    root = os.path.realpath(os.getcwd())
    database = _inspector_settings.DATABASES.get("default", {})
    report = {
        "django": django.get_version(),
        "root": root,
        "database": {
            "engine": str(database.get("ENGINE", "")),
            "name": str(database.get("NAME", "")),
        },
        "apps": [],
    }
    for config in _inspector_apps.get_app_configs():
        path = os.path.realpath(config.path)
        if not _inspector_inside(path, root):
            continue
        report["apps"].append({
            "name": config.name,
            "label": config.label,
            "path": path,
            "migrations_dir": _inspector_migrations_dir(config),
            "models": [_inspector_model(m) for m in config.get_models()],
        })
    print("INSPECTOR-INTROSPECTION-JSON:" + json.dumps(report), flush=True)


_inspector_report()
