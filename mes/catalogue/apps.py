from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "mes.catalogue"
    label = "catalogue"
    verbose_name = "Catalogue de services"
