package io.vectorsync.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.support.RelayProcess;
import io.vectorsync.support.TestDatabases;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/**
 * INGEST under {@code kill -9} (issue 16: "the outbox makes it hold under crashes"). The application runs in
 * child JVMs against one database; each child stalls the job at a failpoint of {@code IngestHandler} and
 * is then killed with SIGKILL, and the next child takes the job over once its lease ({@code stale-after}
 * 4 s here) has expired:
 * <ol>
 *   <li>a new document of ~300 chunks, killed while embedding (PROCESSING, progress between 0 and the
 *       total), inside the write transaction (every chunk written, not committed), and after the commit
 *       before the job was marked completed; the fourth child completes it at attempt 4 and writes nothing
 *       (all unchanged);
 *   <li>a changed version (paragraphs rewritten, inserted, removed, so the others' positions move), killed
 *       inside its write transaction; the fifth child completes it at attempt 2.
 * </ol>
 * At each kill and at the end the document's live chunks are exactly one version's split (ids per
 * {@link ChunkIds}, texts and positions from {@link TextSplitter}), never a mix; at the end every chunk's
 * version is what one clean ingest of each version gives, and the outbox holds exactly one event per chunk
 * and version (versions 1..n, no duplicate, no gap). Each child's output is in {@code target/relay-logs/}.
 */
class IngestCrashIT {

    private static final String DOC = "manual";
    private static final Duration START = Duration.ofSeconds(120);
    private static final Duration LEASE = Duration.ofSeconds(4);
    private static final String STALL = "~600000"; // far longer than the test: only the kill ends it
    private static final String[] WORDS = ("replica outbox cursor lease backend chunk vector embedding relay"
            + " snapshot version ledger tombstone document paragraph sentence model queue worker retry backoff"
            + " commit rollback transaction index metadata privacy device sync").split(" ");

    private final ObjectMapper json = new ObjectMapper();
    private final List<RelayProcess> children = new ArrayList<>();
    private String db;
    private JdbcTemplate jdbc;

    @AfterEach
    void stopChildren() {
        children.forEach(RelayProcess::close);
    }

    @Test
    void killedWhileEmbeddingWritingAndCompletingTheIngestConvergesToExactlyOneVersion() throws Exception {
        long started = System.nanoTime();
        db = TestDatabases.create("ingest_crash");
        jdbc = new JdbcTemplate(new DriverManagerDataSource(TestDatabases.url(db), TestDatabases.USER, ""));
        List<String> v1 = paragraphs();
        List<String> v2 = changed(v1);
        Map<String, Expected> first = expected(v1);
        Map<String, Expected> second = expected(v2);

        // 1. Killed while embedding: nothing of the document is written.
        RelayProcess c1 = launch(1, "ingest-embedded:6" + STALL).awaitStarted(START);
        String job1 = submit(c1, v1);
        await("job 1 to stall while embedding").atMost(START).pollInterval(Duration.ofMillis(200)).until(() -> {
            JsonNode j = job(c1, job1);
            return stalled(c1, "ingest-embedded") && "PROCESSING".equals(j.path("status").asText())
                    && j.path("progress").path("done").asLong() > 0;
        });
        JsonNode mid = job(c1, job1);
        assertThat(mid.path("progress").path("done").asLong()).as(mid.toString()).isLessThan(first.size());
        assertThat(mid.path("progress").path("total").asLong()).as(mid.toString()).isEqualTo(first.size());
        kill(c1);
        assertThat(live()).as("chunks after a kill while embedding").isEmpty();

        // 2. Killed inside the write transaction: the uncommitted writes are never seen and roll back.
        RelayProcess c2 = launch(2, "ingest-written" + STALL).awaitStarted(START);
        await("job 1 to stall in its write").atMost(START).until(() -> stalled(c2, "ingest-written"));
        assertThat(live()).as("chunks while the write is not committed").isEmpty();
        kill(c2);
        assertThat(live()).as("chunks after a kill inside the write").isEmpty();
        assertThat(count("SELECT count(*) FROM outbox")).as("events after a kill inside the write").isZero();

        // 3. Killed after the commit, before the job was marked completed: the document is all there.
        RelayProcess c3 = launch(3, "ingest-committed" + STALL).awaitStarted(START);
        await("job 1 to stall after its commit").atMost(START).until(() -> stalled(c3, "ingest-committed"));
        assertThat(status(job1)).isEqualTo("PROCESSING");
        assertThat(live()).as("chunks after the commit").isEqualTo(versions(first));
        kill(c3);

        // 4. Taken over once more: everything compares unchanged, nothing is written again.
        RelayProcess c4 = launch(4, "ingest-written:2" + STALL).awaitStarted(START);
        JsonNode done1 = awaitCompleted(c4, job1);
        assertThat(done1.path("attempts").asInt()).as(done1.toString()).isEqualTo(4);
        assertThat(done1.path("result").path("written").asInt()).as(done1.toString()).isZero();
        assertThat(done1.path("result").path("unchanged").asInt()).as(done1.toString()).isEqualTo(first.size());
        assertThat(done1.path("result").path("embedded").asInt()).as(done1.toString()).isZero();
        assertMatches(first);
        assertThat(live()).isEqualTo(versions(first));

        // 5. A changed version, killed inside its write: the document stays exactly the first version.
        String job2 = submit(c4, v2);
        await("job 2 to stall in its write").atMost(START).until(() -> stalled(c4, "ingest-written"));
        assertThat(live()).as("chunks while the second version is not committed").isEqualTo(versions(first));
        kill(c4);
        assertThat(live()).as("chunks after a kill inside the second write").isEqualTo(versions(first));
        assertMatches(first);

        // 6. Taken over: the second version, exactly, with the versions one clean re-ingest gives.
        RelayProcess c5 = launch(5, "").awaitStarted(START);
        JsonNode done2 = awaitCompleted(c5, job2);
        assertThat(done2.path("attempts").asInt()).as(done2.toString()).isEqualTo(2);
        assertMatches(second);
        Map<String, Long> want = new TreeMap<>();
        second.forEach((id, e) -> {
            Expected before = first.get(id);
            want.put(id, before == null || before.position() == e.position() ? 1L : 2L);
        });
        assertThat(live()).as("live chunks and versions after the second version").isEqualTo(want);
        Map<String, Long> gone = new TreeMap<>();
        first.keySet().stream().filter(id -> !second.containsKey(id)).forEach(id -> gone.put(id, 2L));
        assertThat(gone).as("chunks the second version removes").isNotEmpty();
        assertThat(deleted()).as("deleted chunks (tombstones) after the second version").isEqualTo(gone);
        assertThat(want).as("some chunks unchanged, some moved, some new")
                .containsValue(1L).containsValue(2L);
        assertThat(second.keySet()).as("new chunks in the second version")
                .anyMatch(id -> !first.containsKey(id));
        assertThat(done2.path("result").path("written").asLong()).as(done2.toString())
                .isEqualTo(want.entrySet().stream()
                        .filter(e -> !first.containsKey(e.getKey()) || e.getValue() == 2L).count());

        // One event per (chunk, version), versions 1..n with no gap, n the chunk's version.
        assertThat(count("SELECT count(*) FROM (SELECT chunk_id, version FROM outbox GROUP BY 1, 2"
                + " HAVING count(*) > 1) d")).as("duplicated (chunk, version) events").isZero();
        assertThat(jdbc.queryForList("""
                SELECT c.chunk_id FROM chunks c
                  LEFT JOIN (SELECT chunk_id, count(*) AS n, min(version) AS lo, max(version) AS hi
                               FROM outbox GROUP BY chunk_id) o ON o.chunk_id = c.chunk_id
                 WHERE c.chunk_id LIKE ? AND (o.n IS DISTINCT FROM c.version OR o.lo <> 1 OR o.hi <> c.version)
                """, String.class, DOC + ":%")).as("chunks whose events are not exactly versions 1..n").isEmpty();
        assertThat(count("SELECT count(*) FROM outbox WHERE type = 'DELETE'")).isEqualTo(gone.size());
        assertThat(count("SELECT count(*) FROM outbox"))
                .isEqualTo(want.values().stream().mapToLong(Long::longValue).sum() + 2L * gone.size());
        System.out.printf("IngestCrashIT: %d then %d chunks, 4 kills (SIGKILL), %d events, %d s%n", first.size(),
                second.size(), count("SELECT count(*) FROM outbox"), (System.nanoTime() - started) / 1_000_000_000);
    }

    // ---------------------------------------------------------------- the document

    /** A chunk as one clean ingest of a version writes it. */
    private record Expected(String text, int position) {}

    /**
     * ~300 paragraphs under the splitter's budget, a few long ones (several chunks with overlap) and one
     * paragraph repeated (occurrence numbers 1, 2, 3).
     */
    private static List<String> paragraphs() {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < 280; i++) {
            if (i == 50 || i == 120 || i == 250) {
                out.add("See the appendix for the details of this procedure.");
            } else {
                out.add(paragraph(i, i == 77 || i == 150 ? 30 : 2));
            }
        }
        return out;
    }

    private static String paragraph(int seed, int sentences) {
        SplittableRandom r = new SplittableRandom(seed);
        StringBuilder b = new StringBuilder("Section ").append(seed).append('.');
        for (int s = 0; s < sentences; s++) {
            b.append(' ').append(Character.toUpperCase(WORDS[r.nextInt(WORDS.length)].charAt(0)))
                    .append(WORDS[r.nextInt(WORDS.length)].substring(1));
            for (int w = r.nextInt(8, 18); w > 0; w--) {
                b.append(' ').append(WORDS[r.nextInt(WORDS.length)]);
            }
            b.append('.');
        }
        return b.toString();
    }

    /** Every third paragraph rewritten, ten inserted near the start (moving all after), the last ten removed. */
    private static List<String> changed(List<String> v1) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < v1.size() - 10; i++) {
            out.add(i % 3 == 0 ? v1.get(i) + " Revised in the second edition." : v1.get(i));
        }
        for (int i = 0; i < 10; i++) {
            out.add(5, paragraph(1000 + i, 2));
        }
        return out;
    }

    /** What the splitter and the ids make of a version: id → text and position. */
    private static Map<String, Expected> expected(List<String> paragraphs) {
        List<String> texts = new TextSplitter(TextSplitter.DEFAULT_MAX_CHARS, TextSplitter.DEFAULT_OVERLAP_CHARS)
                .split(String.join("\n\n", paragraphs));
        List<String> ids = ChunkIds.of(DOC, texts);
        Map<String, Expected> out = new TreeMap<>();
        for (int i = 0; i < texts.size(); i++) {
            out.put(ids.get(i), new Expected(texts.get(i), i));
        }
        assertThat(out).as("distinct ids").hasSize(texts.size());
        return out;
    }

    private static Map<String, Long> versions(Map<String, Expected> expected) {
        Map<String, Long> m = new TreeMap<>();
        expected.keySet().forEach(id -> m.put(id, 1L));
        return m;
    }

    // ---------------------------------------------------------------- the database

    /** Live chunks of the document: id → version (a tombstone has no document id: chunks are found by id). */
    private Map<String, Long> live() {
        return versionsWhere("NOT deleted");
    }

    private Map<String, Long> deleted() {
        return versionsWhere("deleted");
    }

    private Map<String, Long> versionsWhere(String condition) {
        Map<String, Long> m = new TreeMap<>();
        jdbc.query("SELECT chunk_id, version FROM chunks WHERE chunk_id LIKE ? AND " + condition, rs -> {
            m.put(rs.getString(1), rs.getLong(2));
        }, DOC + ":%");
        return m;
    }

    /** Every live chunk holds exactly its text, its position and a 384-dimension embedding by the model. */
    private void assertMatches(Map<String, Expected> expected) {
        Map<String, Expected> actual = new TreeMap<>();
        jdbc.query("""
                SELECT chunk_id, content, (metadata->'ingest'->>'position')::int AS position FROM chunks
                 WHERE document_id = ? AND NOT deleted AND metadata->>'source' = 'handbook'
                   AND embedding_model = 'all-MiniLM-L6-v2' AND cardinality(embedding) = 384
                """, rs -> {
            actual.put(rs.getString(1), new Expected(rs.getString(2), rs.getInt(3)));
        }, DOC);
        assertThat(actual).as("live chunks: text and position").isEqualTo(expected);
    }

    private long count(String sql) {
        Long n = jdbc.queryForObject(sql, Long.class);
        return n == null ? 0 : n;
    }

    private String status(String jobId) {
        return jdbc.queryForObject("SELECT status FROM jobs WHERE id = ?", String.class, jobId);
    }

    // ---------------------------------------------------------------- the children

    private RelayProcess launch(int n, String failpoints) {
        // The model is read from its jar onto the heap when the first job embeds.
        RelayProcess p = RelayProcess.start("ingest-crash-" + n, List.of("-Xmx768m"), List.of(
                "--spring.datasource.url=" + TestDatabases.url(db),
                "--spring.datasource.username=" + TestDatabases.USER,
                "--spring.datasource.password=",
                // A new identity each time, as a restarted pod would have.
                "--vectorsync.instance-id=ingest-crash-" + n,
                "--vectorsync.jobs.stale-after=" + LEASE.toSeconds() + "s",
                "--vectorsync.jobs.poll-interval=200ms",
                "--vectorsync.failpoints=" + failpoints));
        children.add(p);
        return p;
    }

    private String submit(RelayProcess child, List<String> paragraphs) throws Exception {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("documentId", DOC);
        doc.put("text", String.join("\n\n", paragraphs));
        doc.put("metadata", Map.of("source", "handbook"));
        HttpResponse<String> r = child.request("POST", "/api/v1/documents:ingest", json.writeValueAsString(doc));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        return json.readTree(r.body()).path("id").asText();
    }

    private JsonNode job(RelayProcess child, String id) throws Exception {
        HttpResponse<String> r = child.request("GET", "/api/v1/jobs/" + id, null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return json.readTree(r.body());
    }

    private JsonNode awaitCompleted(RelayProcess child, String id) throws Exception {
        JsonNode[] last = new JsonNode[1];
        await("job " + id + " to finish on " + child.name()).atMost(START).pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    last[0] = job(child, id);
                    return last[0].path("status").asText().matches("COMPLETED|FAILED|CANCELLED");
                });
        assertThat(last[0].path("status").asText()).as(last[0].toString()).isEqualTo("COMPLETED");
        return last[0];
    }

    private static boolean stalled(RelayProcess child, String point) {
        return child.output().contains("Failpoint " + point + " reached: stalling");
    }

    /** SIGKILL, and the lease the dead worker held expires (no other instance runs to take it over yet). */
    private void kill(RelayProcess child) {
        child.kill();
        System.out.printf("IngestCrashIT: killed %s (pid %d) with SIGKILL%n", child.name(), child.pid());
    }
}
