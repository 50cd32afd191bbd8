# The Linju application image: `linju serve` on PostgreSQL, as docker-compose.yml runs it.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system linju && useradd --system --gid linju --home-dir /app linju
WORKDIR /app

# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml README.md ./
COPY platform ./platform
COPY projects ./projects
COPY payments ./payments
COPY templates ./templates
RUN pip install . && mkdir -p /app/var && chown linju:linju /app/var

USER linju
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"
CMD ["linju", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
