# One image for Dataflow: the Flex Template launcher (it submits the job) and the SDK worker image (it runs
# the job), so both use the same code and the same pinned dependencies. Modelled on Google's
# python-docs-samples dataflow/flex-templates/pipeline_with_dependencies.
#
# Build it from the context `make dataflow-template` writes (build/dataflow-template/: this file, the
# pinned requirements, the package's sdist, main.py and metadata.json), see docs/deploy-dataflow.md:
#   gcloud builds submit build/dataflow-template --tag $IMAGE
# Use the same Python minor version and Beam version as pyproject.toml and dataflow/requirements.txt.
ARG PYTHON_VERSION=3.11
ARG BEAM_VERSION=2.77.0
# Pin the launcher base by tag or digest for reproducible builds (docs/deploy-dataflow.md: update).
ARG LAUNCHER_IMAGE=gcr.io/dataflow-templates-base/python311-template-launcher-base:latest

FROM apache/beam_python${PYTHON_VERSION}_sdk:${BEAM_VERSION} AS beam
FROM ${LAUNCHER_IMAGE} AS launcher

FROM python:${PYTHON_VERSION}-slim
# The SDK worker's entrypoint (boot) from Beam's image of the same version: this image is a worker image.
COPY --from=beam /opt/apache/beam /opt/apache/beam
# The Flex Template launcher binary: this image is also a Flex Template image.
COPY --from=launcher /opt/google/dataflow/python_template_launcher /opt/google/dataflow/python_template_launcher

ARG WORKDIR=/template
WORKDIR ${WORKDIR}

# Every distribution pinned (dataflow/requirements.txt, generated from the tested environment): each
# build gets the same versions. The package itself goes in without resolving anything again.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY cloudaudit-*.tar.gz ./
RUN pip install --no-cache-dir --no-deps cloudaudit-*.tar.gz && rm cloudaudit-*.tar.gz && pip check

COPY main.py metadata.json ./
ENV FLEX_TEMPLATE_PYTHON_PY_FILE="${WORKDIR}/main.py"
# The package and its dependencies are installed: the launcher needs neither
# FLEX_TEMPLATE_PYTHON_REQUIREMENTS_FILE nor FLEX_TEMPLATE_PYTHON_SETUP_FILE, and the job needs no
# --setup_file (workers run this image: --sdk_container_image).
RUN python -c "import pipelines.template, pipelines.batch, pipelines.streaming"

# Beam's SDK harness boot: the entrypoint of a worker image.
ENTRYPOINT ["/opt/apache/beam/boot"]
