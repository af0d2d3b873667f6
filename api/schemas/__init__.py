"""API shapes, one module per feature, kept apart from the ORM models (engine/models/).

Every JSON route declares one of these as its response model, so the OpenAPI
document at /api/v1/openapi.json says what the route really answers.
"""
