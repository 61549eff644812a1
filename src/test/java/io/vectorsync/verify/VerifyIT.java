package io.vectorsync.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.jobs.JobQueue;
import io.vectorsync.jobs.JobRequest;
import io.vectorsync.jobs.JobStatus;
import io.vectorsync.jobs.JobView;
import io.vectorsync.support.AbstractIT;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;

/**
 * Verify against the default {@code replica} backend with the real service: a backend in step verifies
 * clean; each kind of tampering done to the replica's table directly is reported in its category with
 * nothing changed anywhere; {@code repair=true} makes the relay converge and the next verify is clean.
 * Jobs are idempotent while active, and one left RUNNING by a dead instance runs again.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class VerifyIT extends AbstractIT {

    @Autowired
    JobQueue jobs;

    @Autowired
    org.apache.camel.CamelContext camel;

    private JsonNode body(ResponseEntity<String> r) throws Exception {
        return json.readTree(r.getBody());
    }

    /** Starts a verify, checks the 202 answer, and waits for the job to finish. */
    JsonNode verify(String backend, boolean repair) throws Exception {
        ResponseEntity<String> r = adminPost("/admin/v1/backends/{b}/verify?repair={r}", backend, repair);
        assertThat(r.getStatusCode()).isEqualTo(HttpStatus.ACCEPTED);
        JsonNode job = body(r);
        assertThat(job.path("kind").asText()).isEqualTo("verify");
        assertThat(job.path("status").asText()).isIn("QUEUED", "RUNNING", "SUCCEEDED");
        assertThat(r.getHeaders().getLocation()).hasToString("/admin/v1/jobs/" + job.path("id").asText());
        return awaitDone(job.path("id").asText());
    }

    JsonNode awaitDone(String id) throws Exception {
        JsonNode[] last = new JsonNode[1];
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
            last[0] = body(adminGet("/admin/v1/jobs/{id}", id));
            String s = last[0].path("status").asText();
            return s.equals("SUCCEEDED") || s.equals("FAILED");
        });
        assertThat(last[0].path("status").asText()).as(last[0].toString()).isEqualTo("SUCCEEDED");
        assertThat(last[0].path("progress").path("done").asLong())
                .isEqualTo(last[0].path("progress").path("total").asLong());
        return last[0];
    }

    /** Everything verify must leave alone: the replica, the primary, the outbox, the ledger, the cursors. */
    private String state() {
        return jdbc.queryForObject("""
                SELECT (SELECT md5(coalesce(string_agg(r::text, ',' ORDER BY chunk_id), '')) FROM replica_chunks r)
                    || (SELECT md5(coalesce(string_agg(c::text, ',' ORDER BY chunk_id), '')) FROM chunks c)
                    || (SELECT count(*) FROM outbox)
                    || (SELECT md5(coalesce(string_agg(l::text, ',' ORDER BY backend, chunk_key), '')) FROM delivery_ledger l)
                    || (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY target, chunk_id), '')) FROM vectorsync_tombstones t)
                """, String.class);
    }

    private void assertCounts(JsonNode result, long missing, long extra, long stale, long corrupt) {
        assertThat(result.path("missing").asLong()).as("missing in " + result).isEqualTo(missing);
        assertThat(result.path("extra").asLong()).as("extra in " + result).isEqualTo(extra);
        assertThat(result.path("stale").asLong()).as("stale in " + result).isEqualTo(stale);
        assertThat(result.path("corrupt").asLong()).as("corrupt in " + result).isEqualTo(corrupt);
    }

    private List<String> samples(JsonNode result, String what) {
        return json.convertValue(result.path("samples").path(what), json.getTypeFactory()
                .constructCollectionType(List.class, String.class));
    }

    @Test
    @Order(1)
    void badRequestsAreRefusedWithStableCodes() throws Exception {
        ResponseEntity<String> r = adminPost("/admin/v1/backends/{b}/verify", "nope");
        assertThat(r.getStatusCode()).isEqualTo(HttpStatus.NOT_FOUND);
        assertThat(body(r).path("code").asText()).isEqualTo("VSYNC-BACKEND-NOT-FOUND");
        r = adminPost("/admin/v1/backends/{b}/verify?repair=maybe", "replica");
        assertThat(r.getStatusCode()).isEqualTo(HttpStatus.BAD_REQUEST);
        assertThat(body(r).path("code").asText()).isEqualTo("VSYNC-REPAIR-INVALID");
        r = adminGet("/admin/v1/jobs/{id}", "01JNOSUCHJOB0000000000000");
        assertThat(r.getStatusCode()).isEqualTo(HttpStatus.NOT_FOUND);
        assertThat(body(r).path("code").asText()).isEqualTo("VSYNC-JOB-NOT-FOUND");
        r = http.postForEntity("/admin/v1/backends/{b}/verify", null, String.class, "replica");
        assertThat(r.getStatusCode()).isEqualTo(HttpStatus.UNAUTHORIZED);
        assertThat(count("SELECT count(*) FROM jobs")).isZero();
    }

    @Test
    @Order(2)
    void verifyFindsEachKindOfDifferenceAndRepairConverges() throws Exception {
        for (int i = 0; i < 1200; i++) {
            put("v-" + String.format("%04d", i), chunkBody("text " + i));
        }
        Map<String, Object> redacted = chunkBody("secret");
        redacted.put("privacy", "REDACTED");
        put("v-0100", redacted);
        Map<String, Object> local = chunkBody("local");
        local.put("privacy", "LOCAL_ONLY");
        put("v-0101", local);
        delete("v-0102");
        awaitReplicaInStep(Duration.ofSeconds(60));

        JsonNode clean = verify("replica", false).path("result");
        assertCounts(clean, 0, 0, 0, 0);
        assertThat(clean.path("backend").asText()).isEqualTo("replica");
        assertThat(clean.path("repair").asBoolean()).isFalse();
        assertThat(clean.path("primaryCount").asLong()).isEqualTo(1198);
        assertThat(clean.path("backendCount").asLong()).isEqualTo(1198);
        assertThat(clean.path("repaired").asLong()).isZero();

        // Tamper with the replica directly.
        jdbc.update("DELETE FROM replica_chunks WHERE chunk_id = 'v-0007'");
        jdbc.update("""
                INSERT INTO replica_chunks (chunk_id, version, document_id, content, metadata, privacy)
                VALUES ('v-orphan', 3, 'doc-x', 'orphan', '{}', 'FULL')""");
        jdbc.update("""
                INSERT INTO replica_chunks (chunk_id, version, document_id, content, metadata, privacy)
                VALUES ('v-0101', 1, 'doc-1', 'local', '{}', 'FULL')""");
        put("v-0500", chunkBody("newer"));
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                .until(() -> count("SELECT count(*) FROM replica_chunks WHERE chunk_id = 'v-0500' AND version = 2") == 1);
        jdbc.update("UPDATE replica_chunks SET version = 1, content = 'text 500' WHERE chunk_id = 'v-0500'");
        jdbc.update("UPDATE replica_chunks SET content = 'changed' WHERE chunk_id = 'v-0900'");
        jdbc.update("""
                UPDATE replica_chunks SET embedding = (SELECT array_agg(CASE WHEN i = 3 THEN x + 0.5::real ELSE x END
                                                                        ORDER BY i)
                                                         FROM unnest(embedding::real[]) WITH ORDINALITY AS u(x, i))
                 WHERE chunk_id = 'v-1100'""");
        jdbc.update("UPDATE replica_chunks SET content = 'leaked' WHERE chunk_id = 'v-0100'");

        String before = state();
        JsonNode found = verify("replica", false).path("result");
        assertThat(state()).as("verify without repair changes nothing").isEqualTo(before);
        assertCounts(found, 1, 2, 1, 3);
        assertThat(samples(found, "missing")).containsExactly("v-0007");
        assertThat(samples(found, "extra")).containsExactlyInAnyOrder("v-orphan", "v-0101");
        assertThat(samples(found, "stale")).containsExactly("v-0500");
        assertThat(samples(found, "corrupt")).containsExactlyInAnyOrder("v-0100", "v-0900", "v-1100");
        assertThat(found.path("primaryCount").asLong()).isEqualTo(1198);
        assertThat(found.path("backendCount").asLong()).isEqualTo(1199);
        assertThat(found.path("repaired").asLong()).isZero();

        long events = count("SELECT count(*) FROM outbox");
        JsonNode repaired = verify("replica", true).path("result");
        assertCounts(repaired, 1, 2, 1, 3);
        assertThat(repaired.path("repair").asBoolean()).isTrue();
        assertThat(repaired.path("repaired").asLong()).isEqualTo(7);
        awaitReplicaInStep(Duration.ofSeconds(30));
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                .until(() -> count("SELECT count(*) FROM repair_keys") == 0);
        // Repair writes the replica alone (ADR 019): no outbox event, no new version; the corrupt chunks
        // are rewritten at the version the replica held.
        assertThat(count("SELECT count(*) FROM outbox")).isEqualTo(events);
        assertThat(jdbc.queryForObject("""
                SELECT string_agg(chunk_id || ':' || version, ',' ORDER BY chunk_id) FROM replica_chunks
                 WHERE chunk_id IN ('v-0100', 'v-0900', 'v-1100')""", String.class))
                .isEqualTo("v-0100:2,v-0900:1,v-1100:1");
        assertThat(jdbc.queryForObject("SELECT version || ':' || deleted FROM chunks WHERE chunk_id = 'v-orphan'",
                String.class)).as("an extra no state holds: a tombstone at the replica's version").isEqualTo("3:true");
        assertThat(count("SELECT count(*) FROM replica_chunks WHERE chunk_id IN ('v-orphan', 'v-0101')")).isZero();
        assertThat(jdbc.queryForObject("SELECT content FROM chunks WHERE chunk_id = 'v-0900'", String.class))
                .as("repair rewrites the primary's own content").isEqualTo("text 900");

        JsonNode again = verify("replica", false).path("result");
        assertCounts(again, 0, 0, 0, 0);
        assertThat(again.path("backendCount").asLong()).isEqualTo(1198);
    }

    @Test
    @Order(5)
    void retentionRunsOnItsRouteByDefault() {
        assertThat(camel.getRouteController().getRouteStatus("housekeeping-retention").isStarted()).isTrue();
    }

    @Test
    @Order(3)
    void anActiveJobIsReturnedAgainAndAFinishedOneDoesNotBlock() {
        JobView first = jobs.enqueue(new JobRequest("NO_RUNNER_HERE", Map.of("k", "k"), json.createObjectNode().put("n", 1),
                null, null, null)).job();
        JobView second = jobs.enqueue(new JobRequest("NO_RUNNER_HERE", Map.of("k", "k"), json.createObjectNode().put("n", 2),
                null, null, null)).job();
        assertThat(second.id()).isEqualTo(first.id());
        assertThat(second.status()).isEqualTo(JobStatus.PENDING);
        jdbc.update("DELETE FROM jobs WHERE type = 'NO_RUNNER_HERE'");
    }

    @Test
    @Order(4)
    void aJobLeftRunningByADeadInstanceRunsAgain() throws Exception {
        jdbc.update("""
                INSERT INTO jobs (id, type, correlation, correlation_key, status, attempts, payload, owner, started_at,
                                  lease_until, slot)
                VALUES ('01JDEADINSTANCEJOB00000000', 'VERIFY', '{"backend":"replica","repair":"false"}',
                        md5('{"backend": "replica", "repair": "false"}'::jsonb::text), 'PROCESSING', 1,
                        '{"backend":"replica","repair":false}', 'dead-instance', now(), now() + interval '1 hour', 1)""");
        // A POST for the same work while it is active returns that job.
        ResponseEntity<String> r = adminPost("/admin/v1/backends/{b}/verify?repair=false", "replica");
        assertThat(r.getStatusCode()).isEqualTo(HttpStatus.ACCEPTED);
        assertThat(body(r).path("id").asText()).isEqualTo("01JDEADINSTANCEJOB00000000");
        assertThat(body(r).path("status").asText()).isEqualTo("RUNNING");
        // Its instance stops renewing the lease: the job is taken over and runs here.
        jdbc.update("UPDATE jobs SET lease_until = now() - interval '1 second' WHERE id = '01JDEADINSTANCEJOB00000000'");
        JsonNode done = awaitDone("01JDEADINSTANCEJOB00000000");
        assertCounts(done.path("result"), 0, 0, 0, 0);
        assertThat(count("SELECT attempts FROM jobs WHERE id = '01JDEADINSTANCEJOB00000000'")).isEqualTo(2);
        // Finished: the next POST starts a new job.
        JsonNode next = verify("replica", false);
        assertThat(next.path("id").asText()).isNotEqualTo("01JDEADINSTANCEJOB00000000");
    }
}
