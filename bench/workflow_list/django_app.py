"""The Django + Django REST framework peer of bench/workflow_list.sh, in one module: an unmanaged
model over plughost's automate_workflows table, a ModelSerializer with the list's summary fields,
a ListAPIView newest first (`-created_at, -id`) with DRF's PageNumberPagination (page_size 25,
`page_size` query parameter, at most 100). No middleware, no authentication classes, JSON
renderer only, a persistent database connection: the leanest stock DRF setup. DRF's `next` and
`previous` links are absolute URLs (plughost's are relative); everything else has the same shape.

Served by gunicorn: WORKFLOW_DB=path gunicorn --chdir bench/workflow_list django_app:application
"""
import os

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-only-not-secret",
    ALLOWED_HOSTS=["127.0.0.1"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["django.contrib.contenttypes", "rest_framework"],
    MIDDLEWARE=[],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3",
                           "NAME": os.environ["WORKFLOW_DB"], "CONN_MAX_AGE": None}},
    USE_TZ=True,
    REST_FRAMEWORK={
        "DEFAULT_AUTHENTICATION_CLASSES": [],
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        "UNAUTHENTICATED_USER": None,
    },
)
django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import models  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework import generics, serializers  # noqa: E402
from rest_framework.pagination import PageNumberPagination  # noqa: E402


class Workflow(models.Model):
    id = models.TextField(primary_key=True)
    tenant = models.TextField()
    name = models.TextField()
    slug = models.TextField()
    description = models.TextField()
    enabled = models.BooleanField()
    trigger_type = models.TextField()
    trigger_config = models.TextField()
    graph = models.TextField()
    graph_hash = models.TextField()
    workflow_version = models.IntegerField()
    created_at = models.TextField()  # ISO 8601 text, as plughost stores and answers it
    updated_at = models.TextField()

    class Meta:
        app_label = "bench"
        managed = False
        db_table = "automate_workflows"


class WorkflowListSerializer(serializers.ModelSerializer):
    class Meta:
        model = Workflow
        fields = ["id", "name", "slug", "enabled", "trigger_type", "workflow_version",
                  "created_at", "updated_at"]


class Pagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


class WorkflowList(generics.ListAPIView):
    serializer_class = WorkflowListSerializer
    pagination_class = Pagination

    def get_queryset(self):
        tenant = self.request.headers.get("X-Tenant-ID", "default")
        return Workflow.objects.filter(tenant=tenant).order_by("-created_at", "-id").defer(
            "description", "trigger_config", "graph", "graph_hash")


urlpatterns = [path("api/automate/workflows/", WorkflowList.as_view())]
application = get_wsgi_application()
