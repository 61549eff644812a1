package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.BadInputGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.http.HttpEntity;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.ResponseEntity;
import org.springframework.test.context.TestPropertySource;

/**
 * Issue 4, bad input: 10,000 malformed and hostile requests over real HTTP (raw sockets) with valid
 * writes mixed in. Every hostile one answers 4xx with a VSYNC- code, the valid ones succeed, the service
 * stays up, and the primary and the replica hold exactly the valid writes, SQL-looking ids literally.
 * Also: an unauthenticated admin call is refused and changes nothing.
 */
@TestPropertySource(properties = "vectorsync.api.max-body-bytes=262144")
class BadInputIT extends AbstractIT {

    @Value("${local.server.port}")
    int port;

    @Test
    void tenThousandHostileRequestsAreRefusedWithCodesAndOnlyValidWritesLand() throws Exception {
        BadInputGenerator.Result r = new BadInputGenerator("127.0.0.1", port, ADMIN_TOKEN, 384, 262144, "replica")
                .run(10_000, 4, 7);
        Path out = Path.of("target", "bad-input-it.md");
        Files.writeString(out, r.markdown());
        System.out.println("BadInputIT: " + r.total() + " requests in " + r.elapsedMillis() + " ms\n" + r.markdown());

        assertThat(r.violations()).as("requests that broke the rules").isEmpty();
        assertThat(r.table().values().stream().flatMap(m -> m.values().stream()).mapToInt(i -> i).sum())
                .isEqualTo(10_000);
        assertThat(r.table().keySet()).contains("broken-json", "wrong-types", "huge-body", "deep-nesting",
                "nan-inf-vector", "wrong-dimension", "bad-chunk-id", "invalid-if-match", "unknown-privacy",
                "wrong-content-type", "admin-bad-auth", "valid-sql-looking-id");
        // Still up: the liveness probe answers and a valid write still succeeds.
        assertThat(http.getForEntity("/actuator/health/liveness", String.class).getStatusCode().value())
                .isEqualTo(200);

        // The primary holds exactly the valid writes: same ids, contents, versions and tombstones.
        Map<String, BadInputGenerator.Expected> actual = new HashMap<>();
        jdbc.query("SELECT chunk_id, content, version, deleted FROM chunks", rs -> {
            actual.put(rs.getString(1), new BadInputGenerator.Expected(rs.getString(2), rs.getLong(3),
                    rs.getBoolean(4)));
        });
        List<String> differences = new java.util.ArrayList<>();
        actual.forEach((id, row) -> {
            if (!row.equals(r.rows().get(id))) {
                differences.add(id + ": stored " + row + ", expected " + r.rows().get(id));
            }
        });
        r.rows().keySet().stream().filter(id -> !actual.containsKey(id)).forEach(id -> differences.add(id + " missing"));
        assertThat(differences).as("primary rows that differ from the valid writes").isEmpty();
        assertThat(actual).hasSameSizeAs(r.rows());
        assertThat(r.rows().keySet()).anyMatch(id -> id.startsWith("x'; DROP TABLE chunks; --"));

        // The replica holds the same rows, SQL-looking ids stored literally.
        awaitReplicaInStep(Duration.ofSeconds(60));
        List<String> replicaIds = jdbc.queryForList("SELECT chunk_id FROM replica_chunks", String.class);
        assertThat(replicaIds).containsExactlyInAnyOrderElementsOf(r.rows().entrySet().stream()
                .filter(e -> !e.getValue().deleted()).map(Map.Entry::getKey).toList());
        String sqlId = r.rows().keySet().stream().filter(id -> id.startsWith("x'; DROP TABLE chunks; --")).findFirst()
                .orElseThrow();
        assertThat(count("SELECT count(*) FROM chunks WHERE chunk_id = ?", sqlId)).isOne();
        ResponseEntity<String> got = http.getForEntity("/api/v1/chunks/{id}", String.class, sqlId);
        if (!r.rows().get(sqlId).deleted()) {
            assertThat(json.readTree(got.getBody()).get("chunkId").asText()).isEqualTo(sqlId);
        }
    }

    @Test
    void unauthenticatedAdminCallsAreRefusedAndChangeNothing() throws Exception {
        long id = jdbc.queryForObject("""
                INSERT INTO dead_letter (backend, event_id, type, chunk_id, version, attempts, error_class,
                                         event_created_at, last_error)
                VALUES ('replica', 'ev-auth', 'UPSERT', 'auth-1', 1, 5, 'PERMANENT', now(), 'test')
                RETURNING id
                """, Long.class);
        String before = snapshot();
        String[][] calls = {{"POST", "/admin/v1/dead-letters/" + id + "/replay"},
                {"POST", "/admin/v1/dead-letters/" + id + "/discard?reason=x"},
                {"POST", "/admin/v1/backends/replica/dead-letters:replay"},
                {"POST", "/admin/v1/backends/replica/pause"}, {"POST", "/admin/v1/sync-now"},
                {"GET", "/admin/v1/status"}, {"GET", "/admin/v1/dead-letters"}};
        for (String[] c : calls) {
            for (String auth : new String[] {null, "Bearer wrong-token", "Basic YWRtaW46YWRtaW4="}) {
                HttpHeaders h = new HttpHeaders();
                if (auth != null) {
                    h.set("Authorization", auth);
                }
                ResponseEntity<String> resp = http.exchange(c[1], HttpMethod.valueOf(c[0]), new HttpEntity<>(h),
                        String.class);
                assertThat(resp.getStatusCode().value()).as(c[1] + " " + auth).isEqualTo(401);
                JsonNode body = json.readTree(resp.getBody());
                assertThat(body.get("code").asText()).isEqualTo(auth == null ? "VSYNC-AUTH-REQUIRED"
                        : "VSYNC-AUTH-INVALID");
                assertThat(resp.getHeaders().getFirst("WWW-Authenticate")).startsWith("Bearer");
            }
        }
        assertThat(snapshot()).isEqualTo(before);
        assertThat(count("SELECT count(*) FROM dead_letter WHERE id = ? AND discarded_at IS NULL"
                + " AND replayed_at IS NULL", id)).isOne();

        // With the token the same dead letter can be discarded: the refusals above were about auth only.
        ResponseEntity<String> ok = adminPost("/admin/v1/dead-letters/{id}/discard?reason=auth-test", id);
        assertThat(ok.getStatusCode().value()).as(ok.getBody()).isEqualTo(200);
        assertThat(count("SELECT count(*) FROM dead_letter WHERE id = ? AND discarded_at IS NOT NULL", id)).isOne();
        // The health probe stays open (its status depends on the backends, not on credentials).
        assertThat(http.getForEntity("/actuator/health/liveness", String.class).getStatusCode().value())
                .isEqualTo(200);
        assertThat(json.readTree(http.getForEntity("/actuator/health", String.class).getBody()).has("status"))
                .isTrue();
    }

    private String snapshot() {
        return jdbc.queryForObject("""
                SELECT concat_ws('|',
                  (SELECT string_agg(d::text, ',' ORDER BY id) FROM dead_letter d),
                  (SELECT string_agg(p::text, ',' ORDER BY p::text) FROM parked p),
                  (SELECT string_agg(c.backend || ':' || c.paused, ',' ORDER BY c.backend) FROM relay_cursor c),
                  (SELECT count(*) FROM outbox), (SELECT count(*) FROM chunks))
                """, String.class);
    }
}
