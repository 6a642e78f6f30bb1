from django.db import models


class Monitor(models.Model):
    dataset = models.ForeignKey("catalog.Dataset", on_delete=models.CASCADE, related_name="monitors")
    threshold = models.FloatField(default=0.5)
