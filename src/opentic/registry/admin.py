from django.contrib import admin

from opentic.core.admin_base import ReadOnlyAdmin
from opentic.registry import models


@admin.register(models.Institution)
class InstitutionAdmin(ReadOnlyAdmin):
    list_display = ["name", "credit_code", "cma_number", "district", "status", "cma_valid_until"]
    list_filter = ["status", "ownership", "district__region"]
    search_fields = ["name", "credit_code", "cma_number"]


@admin.register(models.Standard)
class StandardAdmin(ReadOnlyAdmin):
    list_display = ["code", "year", "title", "status", "replaced_by"]
    list_filter = ["status"]
    search_fields = ["code", "title"]


@admin.register(models.ScopeLine)
class ScopeLineAdmin(ReadOnlyAdmin):
    list_display = ["institution", "seq", "test_object", "parameter", "standard", "valid_from", "valid_until"]
    list_select_related = ["institution", "test_object", "parameter", "standard"]
    raw_id_fields = ["institution"]


for model in (models.District, models.FunctionalZone, models.SpatialUnit, models.Domain, models.TestObject,
              models.Parameter, models.Staff, models.Instrument, models.ImportBatch,
              models.InstitutionStatusChange, models.SignatoryAuthorization):
    admin.site.register(model, ReadOnlyAdmin)
