"""PostgreSQL statistics the finder's plans depend on.

Parameter and object are strongly correlated (铅 goes with foods, waters and soils), so without
extended statistics the planner underestimates a (parameter, object) match by 20× and picks a bitmap
heap scan over tens of thousands of scattered pages instead of the covering index: 500 ms instead of
70 ms at national scale. SQLite plans without these and is left alone.
"""

from django.db import migrations

FORWARD = [
    "CREATE STATISTICS IF NOT EXISTS scope_param_object_stats (dependencies, mcv, ndistinct) "
    "ON parameter_id, test_object_id FROM registry_scopeline",
    "ALTER TABLE registry_scopeline ALTER COLUMN parameter_id SET STATISTICS 1000, "
    "ALTER COLUMN test_object_id SET STATISTICS 1000, ALTER COLUMN standard_id SET STATISTICS 1000",
]
BACKWARD = [
    "DROP STATISTICS IF EXISTS scope_param_object_stats",
    "ALTER TABLE registry_scopeline ALTER COLUMN parameter_id SET STATISTICS -1, "
    "ALTER COLUMN test_object_id SET STATISTICS -1, ALTER COLUMN standard_id SET STATISTICS -1",
]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("registry", "0003_covering_scope_indexes")]
    operations = [migrations.RunPython(run(FORWARD), run(BACKWARD))]
