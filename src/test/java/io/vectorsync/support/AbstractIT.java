package io.vectorsync.support;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.client.TestRestTemplate;
import org.springframework.http.HttpEntity;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;

/**
 * Base of the integration tests: the whole application on a random port, against its own database on
 * the real PostgreSQL, with the relay running; the context (and its relay) closes after the class. Helpers write chunks through the API and compare the
 * replica table with the primary row for row.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("test")
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
public abstract class AbstractIT {

    /** Rows of the primary that the replica must hold (privacy applied), minus the replica's rows, and back. */
    public static final String REPLICA_DIFF = """
            SELECT count(*) FROM (
              (SELECT chunk_id, version, document_id,
                      CASE WHEN privacy = 'REDACTED' THEN NULL ELSE content END AS content,
                      embedding::text AS embedding, metadata, privacy
                 FROM chunks WHERE NOT deleted AND privacy <> 'LOCAL_ONLY'
               EXCEPT
               SELECT chunk_id, version, document_id, content, embedding::real[]::text, metadata, privacy
                 FROM %1$s)
              UNION ALL
              (SELECT chunk_id, version, document_id, content, embedding::real[]::text, metadata, privacy
                 FROM %1$s
               EXCEPT
               SELECT chunk_id, version, document_id,
                      CASE WHEN privacy = 'REDACTED' THEN NULL ELSE content END,
                      embedding::text, metadata, privacy
                 FROM chunks WHERE NOT deleted AND privacy <> 'LOCAL_ONLY')
            ) d
            """;

    @Autowired
    protected TestRestTemplate http;

    @Autowired
    protected JdbcTemplate jdbc;

    @Autowired
    protected ObjectMapper json;

    protected final SplittableRandom random = new SplittableRandom(42);

    protected float[] embedding(int dim) {
        float[] v = new float[dim];
        for (int i = 0; i < dim; i++) {
            v[i] = (float) random.nextDouble(-1, 1);
        }
        return v;
    }

    protected Map<String, Object> chunkBody(String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("documentId", "doc-1");
        m.put("content", content);
        List<Float> e = new ArrayList<>();
        for (float f : embedding(384)) {
            e.add(f);
        }
        m.put("embedding", e);
        m.put("metadata", Map.of("lang", "en"));
        return m;
    }

    protected ResponseEntity<String> put(String chunkId, Object body) {
        return put(chunkId, body, null);
    }

    protected ResponseEntity<String> put(String chunkId, Object body, String ifMatch) {
        HttpHeaders h = new HttpHeaders();
        h.setContentType(MediaType.APPLICATION_JSON);
        if (ifMatch != null) {
            h.set("If-Match", ifMatch);
        }
        String raw = body instanceof String s ? s : write(body);
        return http.exchange("/api/v1/chunks/{id}", HttpMethod.PUT, new HttpEntity<>(raw, h), String.class, chunkId);
    }

    /** The admin token configured in application-test.yaml. */
    public static final String ADMIN_TOKEN = "test-admin-token";

    protected static HttpHeaders adminHeaders() {
        HttpHeaders h = new HttpHeaders();
        h.setBearerAuth(ADMIN_TOKEN);
        return h;
    }

    protected ResponseEntity<String> adminGet(String path, Object... vars) {
        return http.exchange(path, HttpMethod.GET, new HttpEntity<>(adminHeaders()), String.class, vars);
    }

    protected ResponseEntity<String> adminPost(String path, Object... vars) {
        return http.exchange(path, HttpMethod.POST, new HttpEntity<>(adminHeaders()), String.class, vars);
    }

    protected ResponseEntity<String> delete(String chunkId) {
        return http.exchange("/api/v1/chunks/{id}", HttpMethod.DELETE, HttpEntity.EMPTY, String.class, chunkId);
    }

    protected String write(Object o) {
        try {
            return json.writeValueAsString(o);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    protected long count(String sql, Object... args) {
        Long n = jdbc.queryForObject(sql, Long.class, args);
        return n == null ? 0 : n;
    }

    /**
     * Differences between the replica and the API's chunks. Rows of aggregates the application enqueued
     * itself (keys in {@code aggregates}) are left out on the replica's side: they have no row in
     * {@code chunks} to compare with, and the tests that enqueue them compare them on their own.
     */
    protected long replicaDifferences() {
        return count(REPLICA_DIFF.formatted(
                "(SELECT * FROM replica_chunks WHERE chunk_id NOT IN (SELECT key FROM aggregates)) r"));
    }

    /** Waits until the replica equals the primary row for row. */
    protected void awaitReplicaInStep(Duration within) {
        await().atMost(within).pollInterval(Duration.ofMillis(50)).until(() -> replicaDifferences() == 0);
    }

    /** True when the ledger of {@code backend} holds every chunk at the primary's version. */
    protected boolean deliveredTo(String backend) {
        return count("""
                SELECT count(*) FROM chunks c
                  LEFT JOIN delivery_ledger l ON l.backend = ? AND l.chunk_key = c.chunk_id
                 WHERE l.version IS DISTINCT FROM c.version""", backend) == 0;
    }

    /** Starts a verify job of the backend, waits for it to succeed and returns its result. */
    protected com.fasterxml.jackson.databind.JsonNode verifyResult(String backend, boolean repair) throws Exception {
        ResponseEntity<String> r = adminPost("/admin/v1/backends/{b}/verify?repair={r}", backend, repair);
        org.assertj.core.api.Assertions.assertThat(r.getStatusCode().value()).as(r.getBody()).isEqualTo(202);
        String id = json.readTree(r.getBody()).path("id").asText();
        com.fasterxml.jackson.databind.JsonNode[] last = new com.fasterxml.jackson.databind.JsonNode[1];
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
            last[0] = json.readTree(adminGet("/admin/v1/jobs/{id}", id).getBody());
            return !last[0].path("status").asText().matches("QUEUED|RUNNING");
        });
        org.assertj.core.api.Assertions.assertThat(last[0].path("status").asText()).as(last[0].toString())
                .isEqualTo("SUCCEEDED");
        return last[0].path("result");
    }

    /** Waits up to a minute for the job to finish (through {@code /api/v1/jobs}) and requires it COMPLETED. */
    protected com.fasterxml.jackson.databind.JsonNode awaitJobCompleted(String id) throws Exception {
        com.fasterxml.jackson.databind.JsonNode[] job = new com.fasterxml.jackson.databind.JsonNode[1];
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
            job[0] = json.readTree(http.getForEntity("/api/v1/jobs/{id}", String.class, id).getBody());
            return job[0].path("status").asText().matches("COMPLETED|FAILED|CANCELLED");
        });
        org.assertj.core.api.Assertions.assertThat(job[0].path("status").asText()).as(job[0].toString())
                .isEqualTo("COMPLETED");
        return job[0];
    }

    /** A verify result's counts as {@code missing/extra/stale/corrupt}. */
    protected static String verifyCounts(com.fasterxml.jackson.databind.JsonNode r) {
        return r.path("missing").asLong() + "/" + r.path("extra").asLong() + "/" + r.path("stale").asLong() + "/"
                + r.path("corrupt").asLong();
    }
}
