"""The REST interface at /api/v1/: serializers and thin views over the domain services
and selectors, one error format, one permission layer (the domain scope rules)."""
