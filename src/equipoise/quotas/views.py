# Pages arrive in the next commit.
from django.http import HttpRequest, HttpResponse


def quota_table(request: HttpRequest) -> HttpResponse:
    return HttpResponse("quotas")
