from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="Snapshot",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("checksum", models.CharField(max_length=64)),
                ("dataset", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="snapshots", to="catalog.dataset")),
            ],
        ),
    ]
