# Pages arrive in the next commit.
from django.http import HttpRequest, HttpResponse


def plan_list(request: HttpRequest) -> HttpResponse:
    return HttpResponse("plans")


def plan_grid(request: HttpRequest, plan_id: int) -> HttpResponse:
    return HttpResponse("grid")


def plan_gap(request: HttpRequest, plan_id: int) -> HttpResponse:
    return HttpResponse("gap")
