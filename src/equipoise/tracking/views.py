from django.http import HttpRequest, HttpResponse


def dissect(request: HttpRequest) -> HttpResponse:  # replaced by the tracking pages
    return HttpResponse("tracking")
