"""IN PROGRESS: being written in this session."""

from django.http import Http404

from .access import patient_view


@patient_view
def access(request, *args, **kwargs):
    raise Http404


@patient_view
def emergency(request, *args, **kwargs):
    raise Http404


@patient_view
def confidentiality(request, *args, **kwargs):
    raise Http404


@patient_view
def history(request, *args, **kwargs):
    raise Http404


@patient_view
def notifications(request, *args, **kwargs):
    raise Http404
