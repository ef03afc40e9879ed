"""IN PROGRESS: being written in this session."""

from django.http import Http404

from .access import patient_view


@patient_view
def document_list(request, *args, **kwargs):
    raise Http404


@patient_view
def document_add(request, *args, **kwargs):
    raise Http404


@patient_view
def document_detail(request, *args, **kwargs):
    raise Http404


@patient_view
def document_download(request, *args, **kwargs):
    raise Http404


@patient_view
def document_edit(request, *args, **kwargs):
    raise Http404


@patient_view
def document_delete(request, *args, **kwargs):
    raise Http404


@patient_view
def document_confidentiality(request, *args, **kwargs):
    raise Http404


@patient_view
def document_pin(request, *args, **kwargs):
    raise Http404


@patient_view
def document_report(request, *args, **kwargs):
    raise Http404


@patient_view
def folders(request, *args, **kwargs):
    raise Http404
