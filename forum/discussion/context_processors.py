from .hooks import partials


def page_hooks(request):
    """The partials other apps add to the discussion's pages (forum/discussion/hooks.py)."""
    return {"discussion_hooks": partials()}
