from django.http import HttpRequest, HttpResponse


def batch_list(request: HttpRequest) -> HttpResponse:  # replaced by the import pages
    return HttpResponse("imports")
