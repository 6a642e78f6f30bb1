from django.db import models


class Owner(models.Model):
    name = models.CharField(max_length=120)
    email = models.EmailField()


class Dataset(models.Model):
    slug = models.SlugField(unique=True)
    owner = models.ForeignKey(Owner, on_delete=models.CASCADE, related_name="datasets")


class Snapshot(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="snapshots")
    checksum = models.CharField(max_length=64)
