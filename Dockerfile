# syntax=docker/dockerfile:1
# vectorsync as a container: built with the project's Maven wrapper, run from Spring Boot's layered jar
# (dependencies first, so a code change rebuilds only the last layer) as a non-root user.
#   docker build -t vectorsync .          docker compose up      (see README.md, "Running in containers")

# Base images pinned to a full Temurin release and Ubuntu series (bump both together, deliberately). Not
# pinned by digest: a tag's digest changes when Adoptium rebuilds it for OS fixes, and it cannot be read
# where the tests run (no registry access); add @sha256:... in a build pipeline that resolves it.
FROM eclipse-temurin:17.0.18_8-jdk-noble AS build
WORKDIR /src
COPY .mvn/ .mvn/
COPY mvnw pom.xml ./
RUN --mount=type=cache,target=/root/.m2 ./mvnw -B -q dependency:go-offline
COPY src/ src/
COPY routes/ routes/
# The tests need a PostgreSQL server and run in CI (./mvnw -B verify), not in the image build.
RUN --mount=type=cache,target=/root/.m2 ./mvnw -B -q -DskipTests package \
 && cp target/vectorsync-*.jar application.jar \
 && java -Djarmode=tools -jar application.jar extract --layers --launcher --destination extracted

FROM eclipse-temurin:17.0.18_8-jre-noble
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin vectorsync
WORKDIR /app
COPY --from=build /src/extracted/dependencies/ ./
COPY --from=build /src/extracted/spring-boot-loader/ ./
COPY --from=build /src/extracted/snapshot-dependencies/ ./
COPY --from=build /src/extracted/application/ ./
# The relay routes, editable in place (mount over /app/routes); the jar carries the same files.
COPY routes/ routes/
RUN mkdir -p /app/data && chown -R vectorsync:vectorsync /app/data
USER vectorsync
ENV PORT=8080 \
    JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=75"
EXPOSE 8080
# Start-up (Flyway, Camel routes, the backends' first health probes) gets two minutes before a failed
# probe counts; after that three failures 15 s apart mark the container unhealthy.
HEALTHCHECK --start-period=120s --interval=15s --timeout=3s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${PORT}/actuator/health/liveness" || exit 1
ENTRYPOINT ["java", "org.springframework.boot.loader.launch.JarLauncher"]
