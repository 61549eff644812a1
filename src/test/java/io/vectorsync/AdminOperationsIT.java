package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.support.AbstractIT;
import java.time.Duration;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.http.ResponseEntity;
import org.springframework.test.context.TestPropertySource;
import org.springframework.web.servlet.mvc.method.RequestMappingInfo;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;

/**
 * The admin API's operations: the queue of waiting events (pending after the cursor, parked, failed),
 * pause and resume kept in relay_cursor.paused (and honoured by the relay), retrying parked events now,
 * a re-backfill that rebuilds a wiped backend without skipping outbox events, and the OpenAPI document.
 * The backend refuses chunks of document "poison" through a CHECK constraint.
 */
@TestPropertySource(properties = {
        "vectorsync.relay.max-attempts=2",
        "vectorsync.relay.backoff-base=300ms",
        "vectorsync.relay.backoff-max=1s"})
class AdminOperationsIT extends AbstractIT {

    private static final String SECRET = "payload-text-that-the-queue-must-not-show";

    @Autowired
    @Qualifier("requestMappingHandlerMapping")
    RequestMappingHandlerMapping mappings;

    @AfterEach
    void cleanUp() {
        jdbc.execute("ALTER TABLE replica_chunks DROP CONSTRAINT IF EXISTS no_poison");
        jdbc.update("UPDATE relay_cursor SET paused = false");
    }

    private JsonNode body(ResponseEntity<String> r, int status) throws Exception {
        assertThat(r.getStatusCode().value()).as(r.getBody()).isEqualTo(status);
        return json.readTree(r.getBody());
    }

    private boolean paused() {
        return Boolean.TRUE.equals(jdbc.queryForObject("SELECT paused FROM relay_cursor WHERE backend = 'replica'",
                Boolean.class));
    }

    private long inReplica(String chunkId) {
        return count("SELECT count(*) FROM replica_chunks WHERE chunk_id = ?", chunkId);
    }

    private Map<String, Object> poisoned(String content) {
        Map<String, Object> c = chunkBody(content);
        c.put("documentId", "poison");
        return c;
    }

    @Test
    void pauseAndResumeAreKeptInTheDatabaseTheRelayHonoursThemAndTheyAreIdempotent() throws Exception {
        JsonNode paused = body(adminPost("/admin/v1/backends/replica/pause"), 200);
        assertThat(paused.get("backend").asText()).isEqualTo("replica");
        assertThat(paused.get("paused").asBoolean()).isTrue();
        assertThat(paused()).isTrue();
        // Idempotent: pausing again answers the same state.
        assertThat(body(adminPost("/admin/v1/backends/replica/pause"), 200).get("paused").asBoolean()).isTrue();

        assertThat(put("while-paused", chunkBody("waits")).getStatusCode().value()).isEqualTo(201);
        await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(2)).until(() -> inReplica("while-paused") == 0);

        JsonNode resumed = body(adminPost("/admin/v1/backends/replica/resume"), 200);
        assertThat(resumed.get("paused").asBoolean()).isFalse();
        assertThat(paused()).isFalse();
        await().atMost(Duration.ofSeconds(5)).until(() -> inReplica("while-paused") == 1);
        assertThat(body(adminPost("/admin/v1/backends/replica/resume"), 200).get("paused").asBoolean()).isFalse();

        // All at once.
        JsonNode all = body(adminPost("/admin/v1/pause"), 200);
        assertThat(all.get("backends")).hasSize(1);
        assertThat(all.get("backends").get(0).get("paused").asBoolean()).isTrue();
        assertThat(paused()).isTrue();
        assertThat(put("while-all-paused", chunkBody("waits")).getStatusCode().value()).isEqualTo(201);
        await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(2))
                .until(() -> inReplica("while-all-paused") == 0);
        assertThat(body(adminPost("/admin/v1/resume"), 200).get("backends").get(0).get("paused").asBoolean()).isFalse();
        await().atMost(Duration.ofSeconds(5)).until(() -> inReplica("while-all-paused") == 1);

        // Unknown backends and unauthenticated calls change nothing.
        assertThat(body(adminPost("/admin/v1/backends/nope/pause"), 404).get("code").asText())
                .isEqualTo("VSYNC-BACKEND-NOT-FOUND");
        assertThat(http.postForEntity("/admin/v1/backends/replica/pause", null, String.class).getStatusCode().value())
                .isEqualTo(401);
        assertThat(http.postForEntity("/admin/v1/pause", null, String.class).getStatusCode().value()).isEqualTo(401);
        assertThat(paused()).isFalse();
    }

    @Test
    void theQueueListsPendingParkedAndFailedEventsWithCountsAndNoPayloads() throws Exception {
        jdbc.execute("ALTER TABLE replica_chunks ADD CONSTRAINT no_poison CHECK (document_id IS DISTINCT FROM"
                + " 'poison') NOT VALID");
        assertThat(put("q-dead", poisoned(SECRET)).getStatusCode().value()).isEqualTo(201);
        await().atMost(Duration.ofSeconds(15))
                .until(() -> count("SELECT count(*) FROM dead_letter WHERE chunk_id = 'q-dead'") == 1);
        assertThat(put("q-parked", poisoned(SECRET)).getStatusCode().value()).isEqualTo(201);
        await().atMost(Duration.ofSeconds(5))
                .until(() -> count("SELECT count(*) FROM parked WHERE chunk_id = 'q-parked'") == 1);
        // Keep it parked (not yet due), then hold the relay so the next writes stay pending.
        jdbc.update("UPDATE parked SET next_attempt_at = now() + interval '1 hour' WHERE chunk_id = 'q-parked'");
        body(adminPost("/admin/v1/backends/replica/pause"), 200);
        for (int i = 0; i < 3; i++) {
            assertThat(put("q-pending-" + i, chunkBody(SECRET)).getStatusCode().value()).isEqualTo(201);
        }

        JsonNode all = body(adminGet("/admin/v1/queue?backend=replica"), 200);
        assertThat(all.toString()).doesNotContain(SECRET);
        JsonNode counts = all.get("counts").get(0);
        assertThat(counts.get("backend").asText()).isEqualTo("replica");
        assertThat(counts.get("pending").asLong()).isEqualTo(3);
        assertThat(counts.get("pendingCapped").asBoolean()).isFalse();
        assertThat(counts.get("parked").asLong()).isEqualTo(1);
        assertThat(counts.get("failed").asLong()).isEqualTo(1);
        JsonNode events = all.get("events");
        assertThat(events).hasSize(5);
        assertThat(events.get(0).get("status").asText()).isEqualTo("FAILED");
        assertThat(events.get(0).get("chunkId").asText()).isEqualTo("q-dead");
        assertThat(events.get(0).get("attempts").asInt()).isEqualTo(2);
        assertThat(events.get(0).get("lastError").asText()).contains("no_poison");
        assertThat(events.get(0).get("deadLetterId").asLong()).isPositive();
        assertThat(events.get(1).get("status").asText()).isEqualTo("PARKED");
        assertThat(events.get(1).get("chunkId").asText()).isEqualTo("q-parked");
        assertThat(events.get(1).get("attempts").asInt()).isEqualTo(1);
        assertThat(events.get(1).get("nextAttemptAt").asText()).isNotBlank();
        assertThat(events.get(1).get("lastError").asText()).contains("no_poison");
        for (int i = 0; i < 3; i++) {
            JsonNode p = events.get(2 + i);
            assertThat(p.get("status").asText()).isEqualTo("PENDING");
            assertThat(p.get("chunkId").asText()).isEqualTo("q-pending-" + i); // commit order
            assertThat(p.get("attempts").asInt()).isZero();
            assertThat(p.get("type").asText()).isEqualTo("UPSERT");
        }
        assertThat(all.get("truncated").asBoolean()).isFalse();

        // The outbox_status view agrees on what is pending.
        assertThat(count("SELECT count(*) FROM outbox_status WHERE backend = 'replica' AND status = 'PENDING'"))
                .isEqualTo(3);

        JsonNode errors = body(adminGet("/admin/v1/queue?errorsOnly=true"), 200);
        assertThat(errors.get("events")).extracting(e -> e.get("status").asText()).containsExactly("FAILED", "PARKED");
        JsonNode pendingOnly = body(adminGet("/admin/v1/queue?status=pending&limit=2"), 200);
        assertThat(pendingOnly.get("events")).extracting(e -> e.get("chunkId").asText())
                .containsExactly("q-pending-0", "q-pending-1");
        assertThat(pendingOnly.get("truncated").asBoolean()).isTrue();
        assertThat(body(adminGet("/admin/v1/queue?status=FAILED"), 200).get("events")).hasSize(1);

        assertThat(body(adminGet("/admin/v1/queue?limit=0"), 400).get("code").asText()).isEqualTo("VSYNC-LIMIT-INVALID");
        assertThat(body(adminGet("/admin/v1/queue?limit=10001"), 400).get("code").asText())
                .isEqualTo("VSYNC-LIMIT-INVALID");
        assertThat(body(adminGet("/admin/v1/queue?status=DONE"), 400).get("code").asText())
                .isEqualTo("VSYNC-STATUS-INVALID");
        assertThat(body(adminGet("/admin/v1/queue?backend=nope"), 404).get("code").asText())
                .isEqualTo("VSYNC-BACKEND-NOT-FOUND");
        assertThat(http.getForEntity("/admin/v1/queue", String.class).getStatusCode().value()).isEqualTo(401);

        // Delivered events leave the queue.
        body(adminPost("/admin/v1/backends/replica/resume"), 200);
        await().atMost(Duration.ofSeconds(5)).until(() -> body(adminGet("/admin/v1/queue?status=PENDING"), 200)
                .get("counts").get(0).get("pending").asLong() == 0);
        assertThat(inReplica("q-pending-2")).isOne();
    }

    @Test
    void retryMakesParkedEventsDueNowAndForceResetsTheirAttempts() throws Exception {
        jdbc.execute("ALTER TABLE replica_chunks ADD CONSTRAINT no_poison CHECK (document_id IS DISTINCT FROM"
                + " 'poison') NOT VALID");
        assertThat(put("r-1", poisoned("r")).getStatusCode().value()).isEqualTo(201);
        await().atMost(Duration.ofSeconds(5)).until(() -> count("SELECT count(*) FROM parked WHERE chunk_id = 'r-1'") == 1);
        body(adminPost("/admin/v1/backends/replica/pause"), 200);
        jdbc.update("UPDATE parked SET next_attempt_at = now() + interval '1 hour' WHERE chunk_id = 'r-1'");

        JsonNode retried = body(adminPost("/admin/v1/retry?backend=replica&force=true"), 200);
        assertThat(retried.get("retried").asInt()).isEqualTo(1);
        assertThat(retried.get("force").asBoolean()).isTrue();
        assertThat(retried.get("backends").get("replica").asInt()).isEqualTo(1);
        assertThat(jdbc.queryForMap("SELECT attempts, next_attempt_at <= now() AS due FROM parked WHERE chunk_id = 'r-1'"))
                .isEqualTo(Map.of("attempts", 0, "due", true));

        // Without force the attempts stay; the cause fixed, the retry delivers it at once.
        jdbc.update("UPDATE parked SET next_attempt_at = now() + interval '1 hour', attempts = 1 WHERE chunk_id = 'r-1'");
        jdbc.execute("ALTER TABLE replica_chunks DROP CONSTRAINT no_poison");
        body(adminPost("/admin/v1/backends/replica/resume"), 200);
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() -> inReplica("r-1") == 0);
        JsonNode plain = body(adminPost("/admin/v1/retry"), 200);
        assertThat(plain.get("retried").asInt()).isEqualTo(1);
        assertThat(plain.get("force").asBoolean()).isFalse();
        await().atMost(Duration.ofSeconds(5)).until(() -> inReplica("r-1") == 1);
        assertThat(count("SELECT count(*) FROM parked")).isZero();
        assertThat(body(adminPost("/admin/v1/retry?backend=nope"), 404).get("code").asText())
                .isEqualTo("VSYNC-BACKEND-NOT-FOUND");
    }

    @Test
    void backfillRebuildsAWipedBackendWithoutSkippingOutboxEvents() throws Exception {
        for (int i = 0; i < 40; i++) {
            assertThat(put("w-" + i, chunkBody("wiped " + i)).getStatusCode().value()).isEqualTo(201);
        }
        awaitReplicaInStep(Duration.ofSeconds(10));
        // Held back by a pause: an event of a table vectorsync does not manage (its state is in aggregates,
        // ADR 019, so a page copies it too) and a delete. A re-backfill that moved the cursor to "now" would
        // lose the delete.
        body(adminPost("/admin/v1/backends/replica/pause"), 200);
        String payload = write(chunkBody("from the application's own table"));
        jdbc.queryForObject("SELECT vectorsync.enqueue('UPSERT', 'app-1', 1, ?::jsonb)", String.class, payload);
        assertThat(delete("w-0").getStatusCode().value()).isEqualTo(200);
        // The backend is wiped; the ledger still says it holds every chunk.
        jdbc.execute("TRUNCATE replica_chunks");
        assertThat(count("SELECT count(*) FROM delivery_ledger WHERE backend = 'replica' AND chunk_key LIKE 'w-%'"))
                .isEqualTo(40);

        long live = count("SELECT count(*) FROM current_state WHERE NOT deleted AND privacy <> 'LOCAL_ONLY'");
        // The backfill is a BACKFILL job of the one queue: the job sets the backfill state and mirrors it.
        ResponseEntity<String> started = adminPost("/admin/v1/backends/replica/backfill");
        JsonNode b = body(started, 202);
        String job = b.get("job").get("id").asText();
        assertThat(started.getHeaders().getLocation()).hasToString("/admin/v1/jobs/" + job);
        assertThat(b.get("progress").asText()).isEqualTo("/admin/v1/jobs/" + job);
        assertThat(b.get("paused").asBoolean()).isTrue();
        assertThat(b.get("job").get("kind").asText()).isEqualTo("backfill");
        assertThat(b.get("job").get("status").asText()).isIn("QUEUED", "RUNNING");
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                .until(() -> replicaStatus().get("backfill").get("running").asBoolean());
        JsonNode running = replicaStatus();
        assertThat(running.get("backfill").get("total").asLong()).isEqualTo(live);
        assertThat(running.get("backfill").get("copied").asLong()).isZero();
        assertThat(jdbc.queryForObject("SELECT backfill_rewrite FROM relay_cursor WHERE backend = 'replica'",
                Boolean.class)).isTrue();
        // Asked again while it runs: the same job.
        assertThat(body(adminPost("/admin/v1/backends/replica/backfill"), 202).get("job").get("id").asText())
                .isEqualTo(job);

        body(adminPost("/admin/v1/backends/replica/resume"), 200);
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
                .until(() -> !replicaStatus().get("backfill").get("running").asBoolean());
        JsonNode done = replicaStatus().get("backfill");
        assertThat(done.get("copied").asLong()).isEqualTo(live);
        assertThat(done.get("total").asLong()).isEqualTo(live);
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                .until(() -> body(adminGet("/admin/v1/jobs/{id}", job), 200).get("status").asText().equals("SUCCEEDED"));
        assertThat(body(adminGet("/admin/v1/jobs/{id}", job), 200).get("progress").get("done").asLong()).isEqualTo(live);
        await().atMost(Duration.ofSeconds(10)).until(() -> inReplica("app-1") == 1);
        Set<String> held = new HashSet<>(jdbc.queryForList("SELECT chunk_id FROM replica_chunks", String.class));
        assertThat(held).hasSize((int) live).contains("app-1", "w-1", "w-39").doesNotContain("w-0");
        assertThat(count(REPLICA_DIFF.formatted("(SELECT * FROM replica_chunks WHERE chunk_id <> 'app-1') r")))
                .isZero();
        assertThat(count("SELECT count(*) FROM dead_letter")).isZero();
        assertThat(jdbc.queryForObject("SELECT backfill_rewrite AND backfilling FROM relay_cursor"
                + " WHERE backend = 'replica'", Boolean.class)).isFalse();

        // And it follows the outbox afterwards.
        assertThat(put("after-backfill", chunkBody("after")).getStatusCode().value()).isEqualTo(201);
        await().atMost(Duration.ofSeconds(5)).until(() -> inReplica("after-backfill") == 1);
        assertThat(body(adminPost("/admin/v1/backends/nope/backfill"), 404).get("code").asText())
                .isEqualTo("VSYNC-BACKEND-NOT-FOUND");
    }

    private JsonNode replicaStatus() throws Exception {
        for (JsonNode b : json.readTree(adminGet("/admin/v1/status").getBody()).get("backends")) {
            if (b.get("backend").asText().equals("replica")) {
                return b;
            }
        }
        throw new AssertionError("no replica in the status");
    }

    @Test
    void theOpenApiDocumentDescribesTheChunkBodiesTheFastPathReadsAndTheProblemAnswers() throws Exception {
        JsonNode doc = body(http.getForEntity("/v3/api-docs", String.class), 200);
        JsonNode schemas = doc.path("components").path("schemas");
        JsonNode put = doc.path("paths").path("/api/v1/chunks/{chunkId}").path("put");
        assertThat(put.path("requestBody").path("required").asBoolean()).isTrue();
        assertThat(put.path("requestBody").path("content").path("application/json").path("schema").path("$ref")
                .asText()).isEqualTo("#/components/schemas/ChunkRequest");
        JsonNode chunk = schemas.path("ChunkRequest").path("properties");
        for (String field : new String[] {"chunkId", "documentId", "content", "embedding", "metadata", "privacy",
                "version"}) {
            assertThat(chunk.has(field)).as(field + " in " + schemas.path("ChunkRequest")).isTrue();
        }
        assertThat(chunk.path("embedding").path("items").path("type").asText()).isEqualTo("number");
        assertThat(chunk.path("privacy").path("enum").toString()).contains("LOCAL_ONLY");

        JsonNode batch = doc.path("paths").path("/api/v1/chunks:batch").path("post");
        assertThat(batch.path("requestBody").path("content").path("application/json").path("schema").path("$ref")
                .asText()).isEqualTo("#/components/schemas/BatchRequest");
        assertThat(schemas.path("BatchRequest").path("properties").path("chunks").path("items").path("$ref")
                .asText()).isEqualTo("#/components/schemas/ChunkRequest");
        assertThat(batch.path("responses").path("200").path("content").path("application/json").path("schema")
                .path("$ref").asText()).isEqualTo("#/components/schemas/BatchWritten");

        // Every error answer, on both APIs, is the problem schema as application/problem+json.
        for (JsonNode op : new JsonNode[] {put, batch, doc.path("paths").path("/admin/v1/queue").path("get")}) {
            assertThat(op.path("responses").path("default").path("content").path("application/problem+json")
                    .path("schema").path("$ref").asText()).as(op.toString()).isEqualTo("#/components/schemas/Problem");
        }
        // Typed answers, not free-form maps.
        assertThat(schemas.path("BackendStatus").path("properties").has("lastPollAgeSeconds")).isTrue();
        assertThat(schemas.path("BackendStatus").path("properties").has("backlog")).as("stats inline").isTrue();
        assertThat(schemas.path("ChunkView").path("properties").has("syncStatus")).isTrue();
        assertThat(schemas.path("JobView").path("properties").path("progress").path("$ref").asText())
                .isEqualTo("#/components/schemas/Progress");
    }

    @Test
    void theOpenApiDocumentIsOpenAndDescribesEveryAdminEndpointWithTheAdminSecuritySchemes() throws Exception {
        ResponseEntity<String> r = http.getForEntity("/v3/api-docs", String.class);
        JsonNode doc = body(r, 200);
        assertThat(doc.get("openapi").asText()).startsWith("3.");
        JsonNode schemes = doc.get("components").get("securitySchemes");
        assertThat(schemes.get("adminBearer").get("scheme").asText()).isEqualTo("bearer");
        assertThat(schemes.get("adminBasic").get("scheme").asText()).isEqualTo("basic");
        JsonNode problem = doc.get("components").path("schemas").path("Problem").path("properties");
        for (String member : new String[] {"type", "title", "status", "detail", "instance", "code", "field",
                "expected"}) {
            assertThat(problem.has(member)).as(member + " in " + doc.get("components")).isTrue();
        }

        // Every admin endpoint the application serves, read from its own handler mappings.
        int admin = 0;
        for (RequestMappingInfo info : mappings.getHandlerMethods().keySet()) {
            for (String pattern : info.getPatternValues()) {
                if (!pattern.startsWith("/admin/v1") && !pattern.startsWith("/api/v1")) {
                    continue;
                }
                for (var method : info.getMethodsCondition().getMethods()) {
                    JsonNode op = doc.path("paths").path(pattern).path(method.name().toLowerCase(Locale.ROOT));
                    assertThat(op.isMissingNode()).as(method + " " + pattern + " in /v3/api-docs").isFalse();
                    if (pattern.startsWith("/admin/v1")) {
                        admin++;
                        assertThat(op.get("security").toString()).as(pattern)
                                .contains("adminBearer").contains("adminBasic");
                        assertThat(op.get("responses").has("401")).as(pattern).isTrue();
                    } else {
                        assertThat(op.has("security")).as(pattern).isFalse();
                    }
                }
            }
        }
        // status, dead letters (4), sync-now, queue, pause/resume (4), retry, backfill: at least these.
        assertThat(admin).isGreaterThanOrEqualTo(13);
        for (String p : new String[] {"/admin/v1/queue", "/admin/v1/retry", "/admin/v1/pause", "/admin/v1/resume",
                "/admin/v1/backends/{backend}/pause", "/admin/v1/backends/{backend}/resume",
                "/admin/v1/backends/{backend}/backfill", "/admin/v1/status", "/admin/v1/sync-now"}) {
            assertThat(doc.get("paths").has(p)).as(p).isTrue();
        }
        assertThat(doc.get("paths").fieldNames()).toIterable().allMatch(p -> p.startsWith("/admin/v1/")
                || p.startsWith("/api/v1/"));
    }
}
