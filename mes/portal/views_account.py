"""IN PROGRESS: being written in this session."""

from django.http import Http404

from .access import patient_view, public_view


@public_view
def login_view(request, *args, **kwargs):
    raise Http404


@public_view
def login_code(request, *args, **kwargs):
    raise Http404


@patient_view
def logout_view(request, *args, **kwargs):
    raise Http404


@patient_view
def onboarding(request, *args, **kwargs):
    raise Http404


@public_view
def demo_outbox(request, *args, **kwargs):
    raise Http404


@patient_view
def notifications(request, *args, **kwargs):
    raise Http404
