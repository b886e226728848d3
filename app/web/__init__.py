"""The web app: a JSON API under /api/v1 and server-rendered pages, both thin
adapters over the services (docs/architecture.md decision 15).

    app.py         create_app(runtime): the app of one runtime, its routers
    auth.py        signing in over HTTP: cookies, CSRF, the address throttle and
                   `signed_in`, the one dependency that says who is asking
    deps.py        the runtime, its engine and the domain's clock for a route
    errors.py      every error as problem+json (API) or a Chinese page (HTML)
    headers.py     the security headers on every response
    openapi.py     the OpenAPI document: errors as problem+json, the ways to sign in
    templating.py  Jinja2, autoescaped and strict
    server.py      uvicorn: `rectify web`, and beside `rectify serve`'s scheduler
    api/           the JSON API, one router per context
    pages/         the pages, one router per context
"""
