package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.support.AbstractIT;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.http.HttpEntity;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.test.context.TestPropertySource;

/**
 * The job API over HTTP (issue 16) against the real queue: 202 with Location for a new job and 200 with
 * the existing one (same correlation, or the same Idempotency-Key), refusals that queue nothing (an
 * invalid payload or envelope, an unknown type, a disabled type, the rate limit with Retry-After), the
 * list's filters, cancel and retry, the admin verify endpoint going through the same queue while
 * {@code GET /admin/v1/jobs/{id}} keeps the earlier names, and the payload schemas in the OpenAPI document.
 * BACKFILL is disabled and VERIFY limited to 5 per minute here; NOOP fails fast (2 attempts, 50 ms backoff).
 */
@TestPropertySource(properties = {
        "vectorsync.jobs.poll-interval=100ms",
        "vectorsync.jobs.types[BACKFILL].enabled=false",
        "vectorsync.jobs.types[VERIFY].rate-per-minute=5",
        "vectorsync.jobs.types[NOOP].max-attempts=2",
        "vectorsync.jobs.types[NOOP].base-delay=50ms",
        "vectorsync.jobs.types[NOOP].max-delay=100ms"})
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class JobApiIT extends AbstractIT {

    private ResponseEntity<String> submit(String body, String idempotencyKey) {
        return submit(body, idempotencyKey, new HttpHeaders());
    }

    private ResponseEntity<String> submit(String body, String idempotencyKey, HttpHeaders h) {
        h.setContentType(MediaType.APPLICATION_JSON);
        if (idempotencyKey != null) {
            h.set("Idempotency-Key", idempotencyKey);
        }
        return http.exchange("/api/v1/jobs", HttpMethod.POST, new HttpEntity<>(body, h), String.class);
    }

    private ResponseEntity<String> submit(String body) {
        return submit(body, null);
    }

    /** VERIFY and BACKFILL are operator work: submitted with the admin credential. */
    private ResponseEntity<String> submitAsOperator(String body) {
        return submit(body, null, adminHeaders());
    }

    private JsonNode body(ResponseEntity<String> r, int status) throws Exception {
        assertThat(r.getStatusCode().value()).as(r.getBody()).isEqualTo(status);
        return json.readTree(r.getBody());
    }

    /** A refusal: its status, problem content type and code, and the field it names. */
    private JsonNode problem(ResponseEntity<String> r, int status, String code) throws Exception {
        JsonNode p = body(r, status);
        assertThat(r.getHeaders().getContentType().isCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON))
                .as(String.valueOf(r.getHeaders().getContentType())).isTrue();
        assertThat(p.path("code").asText()).as(r.getBody()).isEqualTo(code);
        return p;
    }

    /** A job, read with the admin credential (which a VERIFY or BACKFILL job needs). */
    private JsonNode job(String id) throws Exception {
        return body(adminGet("/api/v1/jobs/{id}", id), 200);
    }

    private String awaitStatus(String id, String status) {
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> job(id).path("status").asText().equals(status));
        return id;
    }

    private long jobs() {
        return count("SELECT count(*) FROM jobs");
    }

    private static String unique() {
        return UUID.randomUUID().toString();
    }

    @Test
    void aNewJobIs202WithLocationAndTheSameCorrelationReturnsItWith200() throws Exception {
        String run = unique();
        String envelope = "{\"type\":\"NOOP\",\"correlation\":{\"run\":\"" + run + "\"},\"payload\":{\"sleepMs\":300},"
                + "\"priority\":5}";
        ResponseEntity<String> created = submit(envelope);
        JsonNode job = body(created, 202);
        String id = job.path("id").asText();
        assertThat(created.getHeaders().getLocation()).hasToString("/api/v1/jobs/" + id);
        assertThat(job.path("type").asText()).isEqualTo("NOOP");
        assertThat(job.path("status").asText()).isIn("PENDING", "PROCESSING");
        assertThat(job.path("correlation").path("run").asText()).isEqualTo(run);
        assertThat(job.path("priority").asInt()).isEqualTo(5);
        assertThat(job.path("maxAttempts").asInt()).isEqualTo(2);
        assertThat(Instant.parse(job.path("createdAt").asText())).isBefore(Instant.now().plusSeconds(5));
        assertThat(job.path("progress").has("done")).isTrue();

        // While it is pending or running, and after it completed (within the window): the same job, 200.
        ResponseEntity<String> again = submit(envelope);
        assertThat(body(again, 200).path("id").asText()).isEqualTo(id);
        assertThat(again.getHeaders().getFirst(HttpHeaders.CONTENT_LOCATION)).isEqualTo("/api/v1/jobs/" + id);
        awaitStatus(id, "COMPLETED");
        JsonNode done = job(id);
        assertThat(done.path("attempts").asInt()).isEqualTo(1);
        assertThat(done.has("startedAt") && done.has("finishedAt")).isTrue();
        assertThat(done.path("result").isObject()).as(done.toString()).isTrue();
        assertThat(body(submit(envelope), 200).path("id").asText()).isEqualTo(id);

        // Another correlation is another job.
        String other = body(submit("{\"type\":\"NOOP\",\"correlation\":{\"run\":\"" + unique() + "\"}}"), 202)
                .path("id").asText();
        assertThat(other).isNotEqualTo(id);
    }

    @Test
    void theSameIdempotencyKeyReturnsTheJobItCreated() throws Exception {
        String key = unique();
        String request = "{\"type\":\"NOOP\",\"correlation\":{\"a\":\"" + unique() + "\"}}";
        String id = body(submit(request, key), 202).path("id").asText();
        ResponseEntity<String> replay = submit(request, key);
        assertThat(body(replay, 200).path("id").asText()).isEqualTo(id);
        assertThat(count("SELECT count(*) FROM jobs WHERE idempotency_key = ?", key)).isOne();

        long before = jobs();
        problem(submit("{\"type\":\"NOOP\"}", "x".repeat(256)), 400, "VSYNC-JOB-INVALID");
        JsonNode control = problem(submit("{\"type\":\"NOOP\"}", "tab\tinside"), 400, "VSYNC-JOB-INVALID");
        assertThat(control.path("field").asText()).isEqualTo("Idempotency-Key");
        assertThat(jobs()).isEqualTo(before);
    }

    @Test
    void anInvalidPayloadOrEnvelopeIs400AndQueuesNothing() throws Exception {
        long before = jobs();
        JsonNode p = problem(submit("{\"type\":\"NOOP\",\"payload\":{\"sleepMs\":\"secret-value\"}}"), 400,
                "VSYNC-JOB-INVALID");
        assertThat(p.path("field").asText()).isEqualTo("payload.sleepMs");
        assertThat(p.path("expected").asText()).isEqualTo("a payload valid against jobs/noop.schema.json");
        assertThat(p.path("detail").asText()).doesNotContain("secret-value");
        assertThat(p.path("type").asText()).isEqualTo("https://vectorsync.io/errors/vsync-job-invalid");
        assertThat(p.path("title").asText()).isEqualTo("Invalid job");
        assertThat(problem(submit("{\"type\":\"NOOP\",\"payload\":{\"sleepMs\":1,\"extra\":true}}"), 400,
                "VSYNC-JOB-INVALID").path("field").asText()).isEqualTo("payload.extra");
        assertThat(problem(submitAsOperator("{\"type\":\"VERIFY\",\"payload\":{}}"), 400, "VSYNC-JOB-INVALID")
                .path("field").asText()).isEqualTo("payload.backend");
        assertThat(problem(submit("{\"type\":\"NOOP\",\"payload\":[1]}"), 400, "VSYNC-JOB-INVALID")
                .path("field").asText()).isEqualTo("payload");
        assertThat(problem(submit("{\"type\":\"NOOP\",\"correlation\":{\"n\":1}}"), 400, "VSYNC-JOB-INVALID")
                .path("field").asText()).isEqualTo("correlation.n");
        assertThat(problem(submit("{\"type\":\"NOOP\",\"correlation\":{\"bad key\":\"v\"}}"), 400,
                "VSYNC-JOB-INVALID").path("field").asText()).isEqualTo("correlation");
        assertThat(problem(submit("{\"type\":\"NOOP\",\"runAt\":\"tomorrow\"}"), 400, "VSYNC-JOB-INVALID")
                .path("field").asText()).isEqualTo("runAt");
        assertThat(problem(submit("{\"type\":\"NOOP\",\"priority\":1.5}"), 400, "VSYNC-JOB-INVALID")
                .path("field").asText()).isEqualTo("priority");
        assertThat(problem(submit("{\"payload\":{}}"), 400, "VSYNC-JOB-INVALID").path("field").asText())
                .isEqualTo("type");
        assertThat(problem(submit("{\"type\":\"NOOP\",\"kind\":\"verify\"}"), 400, "VSYNC-UNKNOWN-FIELD")
                .path("field").asText()).isEqualTo("kind");
        problem(submit("{\"type\":"), 400, "VSYNC-MALFORMED-JSON");
        problem(submit("[]"), 400, "VSYNC-MALFORMED-JSON");
        assertThat(jobs()).isEqualTo(before);
    }

    @Test
    void anUnknownTypeIs404AndADisabledOneIsRefused() throws Exception {
        long before = jobs();
        JsonNode unknown = problem(submit("{\"type\":\"TELEPORT\",\"payload\":{}}"), 404, "VSYNC-JOB-TYPE");
        assertThat(unknown.path("field").asText()).isEqualTo("type");
        assertThat(unknown.path("expected").asText()).contains("NOOP", "VERIFY");
        problem(submit("{\"type\":\"noop\"}"), 404, "VSYNC-JOB-TYPE");

        JsonNode disabled = problem(submitAsOperator("{\"type\":\"BACKFILL\",\"payload\":{\"backend\":\"replica\"}}"), 409,
                "VSYNC-JOB-DISABLED");
        assertThat(disabled.path("detail").asText()).contains("vectorsync.jobs.types.BACKFILL.enabled");
        // The admin endpoint goes through the same submission.
        problem(adminPost("/admin/v1/backends/replica/backfill"), 409, "VSYNC-JOB-DISABLED");
        assertThat(jobs()).isEqualTo(before);
    }

    @Test
    @Order(Integer.MAX_VALUE) // last: the admin verify test's jobs count against VERIFY's limit too
    void overTheRateLimitIs429WithRetryAfterAndQueuesNothing() throws Exception {
        // VERIFY: 5 per minute across instances, counted in the jobs table, the admin test's jobs included.
        long recent = count("SELECT count(*) FROM jobs WHERE type = 'VERIFY'"
                + " AND created_at > clock_timestamp() - interval '60 seconds'");
        // Six requests at once (each on its own connection, as from several instances): exactly the free
        // slots are taken, the rest refused.
        ExecutorService pool = Executors.newFixedThreadPool(6);
        List<Future<ResponseEntity<String>>> answers = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            answers.add(pool.submit(() -> submitAsOperator("{\"type\":\"VERIFY\",\"correlation\":{\"n\":\"" + unique()
                    + "\"},\"payload\":{\"backend\":\"replica\"}}")));
        }
        List<String> ids = new ArrayList<>();
        int refused = 0;
        for (Future<ResponseEntity<String>> f : answers) {
            ResponseEntity<String> r = f.get(30, TimeUnit.SECONDS);
            if (r.getStatusCode().value() == 202) {
                ids.add(json.readTree(r.getBody()).path("id").asText());
            } else {
                problem(r, 429, "VSYNC-JOB-RATE");
                refused++;
            }
        }
        pool.shutdown();
        assertThat(ids).hasSize((int) Math.max(0, 5 - recent));
        assertThat(refused).isEqualTo(6 - ids.size());
        long before = jobs();
        ResponseEntity<String> limited = submitAsOperator("{\"type\":\"VERIFY\",\"correlation\":{\"n\":\"" + unique() + "\"},"
                + "\"payload\":{\"backend\":\"replica\"}}");
        JsonNode p = problem(limited, 429, "VSYNC-JOB-RATE");
        long retryAfter = Long.parseLong(limited.getHeaders().getFirst(HttpHeaders.RETRY_AFTER));
        assertThat(retryAfter).isBetween(1L, 60L);
        assertThat(p.path("detail").asText()).contains("5 per minute", "retry in " + retryAfter + " s");
        assertThat(jobs()).isEqualTo(before);
        // NOOP has no limit.
        body(submit("{\"type\":\"NOOP\",\"correlation\":{\"n\":\"" + unique() + "\"}}"), 202);
        for (String id : ids) {
            awaitStatus(id, "COMPLETED");
        }
    }

    @Test
    void theListFiltersByTypeAndStatusNewestFirst() throws Exception {
        String batch = unique();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.add(body(submit("{\"type\":\"NOOP\",\"correlation\":{\"batch\":\"" + batch + "\",\"i\":\"" + i
                    + "\"}}"), 202).path("id").asText());
        }
        String later = body(submit("{\"type\":\"NOOP\",\"correlation\":{\"batch\":\"" + batch + "\"},"
                + "\"runAt\":\"" + Instant.now().plusSeconds(3600) + "\"}"), 202).path("id").asText();
        for (String id : ids) {
            awaitStatus(id, "COMPLETED");
        }
        JsonNode completed = body(http.getForEntity("/api/v1/jobs?type=NOOP&status=COMPLETED&limit=1000",
                String.class), 200).path("jobs");
        List<String> listed = new ArrayList<>();
        completed.forEach(j -> {
            assertThat(j.path("type").asText()).isEqualTo("NOOP");
            assertThat(j.path("status").asText()).isEqualTo("COMPLETED");
            listed.add(j.path("id").asText());
        });
        assertThat(listed).containsAll(ids).doesNotContain(later);
        assertThat(listed.indexOf(ids.get(2))).as("newest first").isLessThan(listed.indexOf(ids.get(0)));
        JsonNode pending = body(http.getForEntity("/api/v1/jobs?status=PENDING", String.class), 200).path("jobs");
        assertThat(pending.findValuesAsText("id")).contains(later);
        assertThat(pending.findValuesAsText("runAt")).isNotEmpty();
        assertThat(body(http.getForEntity("/api/v1/jobs?type=NOOP&limit=2", String.class), 200).path("jobs").size())
                .isEqualTo(2);
        assertThat(body(adminGet("/api/v1/jobs?type=VERIFY&status=PENDING"), 200)
                .path("jobs").findValuesAsText("id")).doesNotContain(later);

        problem(http.getForEntity("/api/v1/jobs?status=QUEUED", String.class), 400, "VSYNC-STATUS-INVALID");
        assertThat(problem(http.getForEntity("/api/v1/jobs?limit=0", String.class), 400, "VSYNC-LIMIT-INVALID")
                .path("expected").asText()).isEqualTo("1 to 1000");
        problem(http.getForEntity("/api/v1/jobs?limit=1001", String.class), 400, "VSYNC-LIMIT-INVALID");
        problem(http.getForEntity("/api/v1/jobs/{id}", String.class, "01NOSUCHJOB0000000000000000"), 404,
                "VSYNC-JOB-NOT-FOUND");
        http.postForEntity("/api/v1/jobs/{id}:cancel", null, String.class, later);
    }

    @Test
    void cancelAndRetryOverHttp() throws Exception {
        // A delayed job is PENDING: cancel makes it CANCELLED at once, a second cancel is refused.
        String delayed = body(submit("{\"type\":\"NOOP\",\"correlation\":{\"c\":\"" + unique() + "\"},\"runAt\":\""
                + Instant.now().plusSeconds(3600) + "\"}"), 202).path("id").asText();
        assertThat(job(delayed).path("status").asText()).isEqualTo("PENDING");
        JsonNode cancelled = body(http.postForEntity("/api/v1/jobs/{id}:cancel", null, String.class, delayed), 200);
        assertThat(cancelled.path("status").asText()).isEqualTo("CANCELLED");
        assertThat(job(delayed).path("status").asText()).isEqualTo("CANCELLED");
        assertThat(job(delayed).has("finishedAt")).isTrue();
        assertThat(conflict(http.postForEntity("/api/v1/jobs/{id}:cancel", null, String.class, delayed))
                .path("code").asText()).isEqualTo("VSYNC-JOB-STATE");
        // Retried, it is due at once and completes; a completed job cannot be retried.
        JsonNode again = body(http.postForEntity("/api/v1/jobs/{id}:retry", null, String.class, delayed), 200);
        assertThat(again.path("status").asText()).isIn("PENDING", "PROCESSING", "COMPLETED");
        awaitStatus(delayed, "COMPLETED");
        assertThat(conflict(http.postForEntity("/api/v1/jobs/{id}:retry", null, String.class, delayed))
                .path("code").asText()).isEqualTo("VSYNC-JOB-STATE");

        // A job failing more often than its attempts allow is FAILED with its error, and kept for a retry.
        String failing = body(submit("{\"type\":\"NOOP\",\"correlation\":{\"f\":\"" + unique() + "\"},"
                + "\"payload\":{\"failTimes\":2}}"), 202).path("id").asText();
        awaitStatus(failing, "FAILED");
        JsonNode failed = job(failing);
        assertThat(failed.path("attempts").asInt()).isEqualTo(2);
        assertThat(failed.path("lastError").asText()).isNotBlank();
        JsonNode retried = body(http.postForEntity("/api/v1/jobs/{id}:retry", null, String.class, failing), 200);
        assertThat(retried.path("status").asText()).isIn("PENDING", "PROCESSING");
        // A retry keeps counting attempts and grants a fresh budget on top of them (ADR 027); with that
        // budget the NOOP, which fails only its first two attempts, completes.
        assertThat(retried.path("maxAttempts").asInt()).as("a fresh attempt budget")
                .isGreaterThan(failed.path("maxAttempts").asInt());
        awaitStatus(failing, "COMPLETED");

        problem(http.postForEntity("/api/v1/jobs/{id}:cancel", null, String.class, "01NOSUCHJOB0000000000000000"),
                404, "VSYNC-JOB-NOT-FOUND");
        problem(http.postForEntity("/api/v1/jobs/{id}:retry", null, String.class, "01NOSUCHJOB0000000000000000"),
                404, "VSYNC-JOB-NOT-FOUND");
    }

    /**
     * VERIFY (which may repair) and BACKFILL write to backends: on the open API they need the admin credential
     * to be submitted, cancelled or retried, as on the admin endpoints; a refusal is the admin surface's 401
     * and changes nothing.
     */
    @Test
    void operatorJobsNeedTheAdminCredentialOnTheOpenApi() throws Exception {
        long before = jobs();
        String verify = "{\"type\":\"VERIFY\",\"correlation\":{\"o\":\"" + unique() + "\"},\"runAt\":\""
                + Instant.now().plusSeconds(3600) + "\",\"payload\":{\"backend\":\"replica\",\"repair\":true}}";
        ResponseEntity<String> none = submit(verify);
        JsonNode p = problem(none, 401, "VSYNC-AUTH-REQUIRED");
        assertThat(p.path("field").asText()).isEqualTo("Authorization");
        assertThat(none.getHeaders().get(HttpHeaders.WWW_AUTHENTICATE)).anyMatch(c -> c.startsWith("Bearer"));
        HttpHeaders wrong = new HttpHeaders();
        wrong.setBearerAuth("not-the-token");
        problem(submit(verify, null, wrong), 401, "VSYNC-AUTH-INVALID");
        HttpHeaders basic = new HttpHeaders();
        basic.setBasicAuth("admin", "guess");
        problem(submit(verify, null, basic), 401, "VSYNC-AUTH-INVALID");
        problem(submit("{\"type\":\"BACKFILL\",\"payload\":{\"backend\":\"replica\"}}"), 401,
                "VSYNC-AUTH-REQUIRED");
        assertThat(jobs()).as("nothing queued").isEqualTo(before);

        String id = body(submitAsOperator(verify), 202).path("id").asText();
        problem(http.postForEntity("/api/v1/jobs/{id}:cancel", null, String.class, id), 401, "VSYNC-AUTH-REQUIRED");
        assertThat(job(id).path("status").asText()).isEqualTo("PENDING");
        JsonNode cancelled = body(http.exchange("/api/v1/jobs/{id}:cancel", HttpMethod.POST,
                new HttpEntity<>(adminHeaders()), String.class, id), 200);
        assertThat(cancelled.path("status").asText()).isEqualTo("CANCELLED");
        problem(http.postForEntity("/api/v1/jobs/{id}:retry", null, String.class, id), 401, "VSYNC-AUTH-REQUIRED");
        assertThat(job(id).path("status").asText()).isEqualTo("CANCELLED");
        assertThat(job(id).path("type").asText()).isEqualTo("VERIFY");
    }

    /**
     * A VERIFY result names chunk ids (samples per finding) and backends' state: reading it needs the admin
     * credential too; a list without a type, read without it, shows such jobs without result and error. The
     * application's jobs stay open to read.
     */
    @Test
    void readingAnOperatorJobNeedsTheAdminCredential() throws Exception {
        String verify = "{\"type\":\"VERIFY\",\"correlation\":{\"r\":\"" + unique()
                + "\"},\"payload\":{\"backend\":\"replica\",\"repair\":false}}";
        String id = body(submitAsOperator(verify), 202).path("id").asText();
        awaitStatus(id, "COMPLETED");
        assertThat(job(id).path("result").path("samples").isObject()).as(job(id).toString()).isTrue();
        problem(http.getForEntity("/api/v1/jobs/{id}", String.class, id), 401, "VSYNC-AUTH-REQUIRED");
        HttpHeaders wrong = new HttpHeaders();
        wrong.setBearerAuth("not-the-token");
        problem(http.exchange("/api/v1/jobs/{id}", HttpMethod.GET, new HttpEntity<>(wrong), String.class, id), 401,
                "VSYNC-AUTH-INVALID");
        problem(http.getForEntity("/api/v1/jobs?type=VERIFY", String.class), 401, "VSYNC-AUTH-REQUIRED");
        problem(http.getForEntity("/api/v1/jobs?type=backfill", String.class), 401, "VSYNC-AUTH-REQUIRED");

        JsonNode open = listed(http.getForEntity("/api/v1/jobs?status=COMPLETED&limit=1000", String.class), id);
        assertThat(open.path("type").asText()).isEqualTo("VERIFY");
        assertThat(open.has("result")).as(open.toString()).isFalse();
        assertThat(open.has("lastError")).isFalse();
        JsonNode admin = listed(adminGet("/api/v1/jobs?status=COMPLETED&limit=1000"), id);
        assertThat(admin.path("result").path("samples").isObject()).as(admin.toString()).isTrue();

        String noop = body(submit("{\"type\":\"NOOP\",\"correlation\":{\"r\":\"" + unique() + "\"}}"), 202)
                .path("id").asText();
        awaitStatus(noop, "COMPLETED");
        assertThat(body(http.getForEntity("/api/v1/jobs/{id}", String.class, noop), 200).path("result").isObject())
                .isTrue();
        assertThat(listed(http.getForEntity("/api/v1/jobs?type=NOOP&status=COMPLETED&limit=1000", String.class), noop)
                .path("result").isObject()).isTrue();
    }

    /** The job {@code id} in a list answer. */
    private JsonNode listed(ResponseEntity<String> r, String id) throws Exception {
        for (JsonNode j : body(r, 200).path("jobs")) {
            if (j.path("id").asText().equals(id)) {
                return j;
            }
        }
        throw new AssertionError("job " + id + " not listed: " + r.getBody());
    }

    /**
     * The job endpoints read their bodies within vectorsync.api.max-body-bytes (413 before parsing), and an
     * Idempotency-Key reused for another request is 422, queueing nothing; the same request with it is the
     * same job.
     */
    @Test
    void anOversizedBodyIs413AndAKeyReusedForAnotherRequestIs422() throws Exception {
        long before = jobs();
        String pad = "x".repeat(8_388_608);
        problem(submit("{\"type\":\"NOOP\",\"correlation\":{\"pad\":\"" + pad + "\"}}"), 413,
                "VSYNC-PAYLOAD-TOO-LARGE");
        HttpHeaders h = new HttpHeaders();
        h.setContentType(MediaType.APPLICATION_JSON);
        ResponseEntity<String> doc = http.exchange("/api/v1/documents:ingest", HttpMethod.POST,
                new HttpEntity<>("{\"documentId\":\"big\",\"text\":\"" + pad + "\"}", h), String.class);
        problem(doc, 413, "VSYNC-PAYLOAD-TOO-LARGE");
        assertThat(jobs()).isEqualTo(before);

        String key = "reuse-" + unique();
        String first = "{\"type\":\"NOOP\",\"correlation\":{\"k\":\"1\"}}";
        String id = body(submit(first, key), 202).path("id").asText();
        assertThat(body(submit(first, key), 200).path("id").asText()).isEqualTo(id);
        JsonNode p = problem(submit("{\"type\":\"NOOP\",\"correlation\":{\"k\":\"2\"}}", key), 422,
                "VSYNC-JOB-IDEMPOTENCY-MISMATCH");
        assertThat(p.path("field").asText()).isEqualTo("Idempotency-Key");
        assertThat(p.path("detail").asText()).contains(id);
        assertThat(jobs()).isEqualTo(before + 1);
    }

    /** A refusal of a job in the wrong state: 409 problem details. */
    private JsonNode conflict(ResponseEntity<String> r) throws Exception {
        assertThat(r.getStatusCode().value()).as(r.getBody()).isEqualTo(409);
        return json.readTree(r.getBody());
    }

    @Test
    void adminVerifyGoesThroughTheQueueAndTheAdminViewKeepsTheEarlierNames() throws Exception {
        ResponseEntity<String> started = adminPost("/admin/v1/backends/replica/verify?repair=false");
        JsonNode legacy = body(started, 202);
        String id = legacy.path("id").asText();
        assertThat(started.getHeaders().getLocation()).hasToString("/admin/v1/jobs/" + id);
        assertThat(legacy.path("kind").asText()).isEqualTo("verify");
        assertThat(legacy.path("status").asText()).isIn("QUEUED", "RUNNING", "SUCCEEDED");
        assertThat(legacy.has("type")).isFalse();

        awaitStatus(id, "COMPLETED");
        ResponseEntity<String> old = adminGet("/admin/v1/jobs/{id}", id);
        JsonNode view = body(old, 200);
        assertThat(view.path("status").asText()).isEqualTo("SUCCEEDED");
        assertThat(view.path("kind").asText()).isEqualTo("verify");
        assertThat(view.path("result").path("missing").asLong()).isZero();
        assertThat(old.getHeaders().getFirst("Link")).isEqualTo("</api/v1/jobs/" + id + ">; rel=\"successor-version\"");
        JsonNode now = job(id);
        assertThat(now.path("type").asText()).isEqualTo("VERIFY");
        assertThat(now.path("correlation").path("backend").asText()).isEqualTo("replica");

        // After a completed run, the operator's next request is a new run, not the old result.
        String next = body(adminPost("/admin/v1/backends/replica/verify?repair=false"), 202).path("id").asText();
        assertThat(next).isNotEqualTo(id);
        awaitStatus(next, "COMPLETED");
        problem(adminGet("/admin/v1/jobs/{id}", "01NOSUCHJOB0000000000000000"), 404, "VSYNC-JOB-NOT-FOUND");
        problem(adminPost("/admin/v1/backends/nope/verify"), 404, "VSYNC-BACKEND-NOT-FOUND");
    }

    @Test
    void theOpenApiDocumentPublishesEachTypesPayloadSchemaAndTheEnvelopeByType() throws Exception {
        JsonNode doc = body(http.getForEntity("/v3/api-docs", String.class), 200);
        JsonNode schemas = doc.path("components").path("schemas");
        for (String type : new String[] {"Noop", "Verify", "Backfill"}) {
            JsonNode payload = schemas.path(type + "Payload");
            assertThat(payload.isObject()).as(type + "Payload in " + schemas.fieldNames()).isTrue();
            assertThat(payload.has("$id")).isFalse();
            JsonNode envelope = schemas.path(type + "JobSubmit");
            assertThat(envelope.path("properties").path("payload").path("$ref").asText())
                    .isEqualTo("#/components/schemas/" + type + "Payload");
            assertThat(envelope.path("properties").path("type").path("enum").get(0).asText())
                    .isEqualTo(type.toUpperCase());
        }
        JsonNode noop = schemas.path("NoopPayload");
        assertThat(noop.path("properties").path("sleepMs").path("maximum").asLong()).isEqualTo(600000);
        assertThat(noop.path("additionalProperties").asBoolean(true)).isFalse();
        assertThat(schemas.path("VerifyPayload").path("required").toString()).contains("backend");

        JsonNode submit = schemas.path("JobSubmit");
        assertThat(submit.path("discriminator").path("propertyName").asText()).isEqualTo("type");
        assertThat(submit.path("discriminator").path("mapping").path("NOOP").asText())
                .isEqualTo("#/components/schemas/NoopJobSubmit");
        assertThat(submit.path("oneOf").findValuesAsText("$ref")).contains("#/components/schemas/VerifyJobSubmit");

        JsonNode post = doc.path("paths").path("/api/v1/jobs").path("post");
        assertThat(post.path("requestBody").path("content").path("application/json").path("schema").path("$ref")
                .asText()).isEqualTo("#/components/schemas/JobSubmit");
        assertThat(post.path("responses").path("202").path("content").path("application/json").path("schema")
                .path("$ref").asText()).isEqualTo("#/components/schemas/Job");
        assertThat(post.path("parameters").findValuesAsText("name")).contains("Idempotency-Key");
        JsonNode job = schemas.path("Job").path("properties");
        for (String field : new String[] {"id", "type", "status", "createdAt", "startedAt", "finishedAt", "attempts",
                "correlation", "progress", "result", "lastError", "runAt", "priority"}) {
            assertThat(job.has(field)).as(field + " in Job").isTrue();
        }
        assertThat(job.path("status").path("enum").toString()).contains("PENDING", "PROCESSING", "COMPLETED");
        assertThat(job.path("progress").path("$ref").asText()).isEqualTo("#/components/schemas/JobProgress");
        for (String p : new String[] {"/api/v1/jobs/{id}", "/api/v1/jobs/{id}:cancel", "/api/v1/jobs/{id}:retry"}) {
            assertThat(doc.path("paths").has(p)).as(p).isTrue();
        }
        assertThat(doc.path("paths").path("/admin/v1/jobs/{id}").path("get").path("deprecated").asBoolean()).isTrue();
    }
}
