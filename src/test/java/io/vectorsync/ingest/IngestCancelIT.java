package io.vectorsync.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.support.AbstractIT;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpEntity;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.test.context.TestPropertySource;

/**
 * A cancel that comes while an INGEST is inside its write transaction (the failpoint {@code ingest-written}
 * stalls it there, every chunk written, not committed) does not stop it: the write commits, and a job whose
 * write committed ends COMPLETED with its result, never CANCELLED with its chunks written.
 */
@TestPropertySource(properties = {"vectorsync.jobs.poll-interval=100ms",
        "vectorsync.failpoints=ingest-written~6000"})
class IngestCancelIT extends AbstractIT {

    @Test
    void aCancelDuringTheWriteLetsTheCommittedIngestComplete() throws Exception {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("documentId", "cancelled-late");
        doc.put("text", "First paragraph.\n\nSecond paragraph.\n\nThird paragraph.");
        HttpHeaders h = new HttpHeaders();
        h.setContentType(MediaType.APPLICATION_JSON);
        ResponseEntity<String> r = http.exchange("/api/v1/documents:ingest", HttpMethod.POST,
                new HttpEntity<>(write(doc), h), String.class);
        assertThat(r.getStatusCode().value()).as(r.getBody()).isEqualTo(202);
        String id = json.readTree(r.getBody()).path("id").asText();

        // Every chunk embedded (progress at its total), the write transaction open and stalled.
        await("the ingest to stall inside its write").atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(50)).until(() -> count("""
                        SELECT count(*) FROM jobs WHERE id = ? AND status = 'PROCESSING' AND progress_total = 3
                           AND progress_done = 3""", id) == 1 && count("""
                        SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                         WHERE a.datname = current_database() AND a.state = 'idle in transaction'
                           AND l.relation = 'documents'::regclass AND l.mode = 'RowExclusiveLock'""") > 0);
        assertThat(count("SELECT count(*) FROM chunks WHERE document_id = 'cancelled-late'"))
                .as("nothing committed yet").isZero();
        ResponseEntity<String> cancel = http.exchange("/api/v1/jobs/{id}:cancel", HttpMethod.POST, HttpEntity.EMPTY,
                String.class, id);
        assertThat(cancel.getStatusCode().value()).as(cancel.getBody()).isEqualTo(200);
        assertThat(json.readTree(cancel.getBody()).path("status").asText()).isEqualTo("PROCESSING");

        JsonNode done = awaitJobCompleted(id);
        assertThat(done.path("result").path("written").asInt()).as(done.toString()).isEqualTo(3);
        assertThat(done.path("progress").path("done").asInt()).isEqualTo(3);
        assertThat(count("SELECT count(*) FROM chunks WHERE document_id = 'cancelled-late' AND NOT deleted"))
                .isEqualTo(3);
        assertThat(count("SELECT count(*) FROM jobs WHERE id = ? AND NOT cancel_requested", id)).isOne();
    }
}
