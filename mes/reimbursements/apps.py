from django.apps import AppConfig


class ReimbursementsConfig(AppConfig):
    name = "mes.reimbursements"
    label = "reimbursements"
