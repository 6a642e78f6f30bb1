from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):
    initial = True
    dependencies = [("catalog", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="Monitor",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("threshold", models.FloatField(default=0.5)),
                ("dataset", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="monitors", to="catalog.dataset")),
            ],
        ),
    ]
