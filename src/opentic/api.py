"""One typed JSON API for the platform, assembled from each app's router; OpenAPI at /api/openapi.json."""

from ninja import NinjaAPI

api = NinjaAPI(title="OpenTIC API", version="1", docs_url="/docs", openapi_url="/openapi.json")
