package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.f4b6a3.ulid.Ulid;
import io.vectorsync.capture.OutboxWriter;
import io.vectorsync.support.AbstractIT;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.HttpEntity;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.transaction.support.TransactionTemplate;

/** Capture: atomic with the change, versioned, and bad input refused with a stable code, writing nothing. */
class CaptureIT extends AbstractIT {

    @Autowired
    OutboxWriter outboxWriter;

    @Autowired
    TransactionTemplate tx;

    @Test
    void rolledBackTransactionLeavesNoEventAndCommittedOneAlwaysHasOne() {
        long before = count("SELECT count(*) FROM outbox");
        // The application's own table: a chunk of vectorsync's chunks table is the API's (VSYNC-ENQUEUE-OWNED).
        jdbc.update("CREATE TABLE IF NOT EXISTS app_documents (id text PRIMARY KEY, body text)");
        try {
            tx.executeWithoutResult(s -> {
                jdbc.update("INSERT INTO app_documents (id, body) VALUES ('rb-1', 'x')");
                outboxWriter.enqueue("UPSERT", "rb-1", 1, Map.of("content", "x"));
                jdbc.queryForObject("SELECT vectorsync.enqueue('UPSERT', 'rb-2', 1, '{}'::jsonb)", String.class);
                throw new IllegalStateException("application fails after enqueue");
            });
        } catch (IllegalStateException expected) {
            // rolled back
        }
        assertThat(count("SELECT count(*) FROM outbox")).isEqualTo(before);
        assertThat(count("SELECT count(*) FROM app_documents WHERE id = 'rb-1'")).isZero();
        assertThat(count("SELECT count(*) FROM aggregates WHERE key IN ('rb-1', 'rb-2')")).as("nor any state").isZero();

        String eventId = tx.execute(s -> {
            jdbc.queryForObject("SELECT vectorsync.enqueue('UPSERT', 'ok-1', 1, "
                    + "'{\"content\":\"hi\",\"embedding\":[1,2]}'::jsonb)", String.class);
            return outboxWriter.enqueue("DELETE", "ok-2", 3, null);
        });
        assertThat(count("SELECT count(*) FROM outbox")).isEqualTo(before + 2);
        assertThat(eventId).hasSize(26);
        assertThat(count("SELECT count(*) FROM outbox WHERE chunk_id = 'ok-1' AND length(event_id) = 26")).isOne();
    }

    @Test
    void sqlEventIdsAreUlidsWithTheCurrentTimeAndEightyRandomBits() {
        long before = System.currentTimeMillis();
        List<String> ids = jdbc.queryForList("SELECT vectorsync.ulid() FROM generate_series(1, 4000)", String.class);
        long after = System.currentTimeMillis();

        assertThat(ids).doesNotHaveDuplicates().allMatch(id -> id.matches("[0-7][0-9A-HJKMNP-TV-Z]{25}"));
        int[][] seen = new int[16][32];
        for (String id : ids) {
            Ulid ulid = Ulid.from(id);
            assertThat(ulid.toString()).isEqualTo(id);
            assertThat(ulid.getTime()).isBetween(before - 1000, after + 1000);
            for (int i = 0; i < 16; i++) {
                seen[i][ALPHABET.indexOf(id.charAt(10 + i))]++;
            }
        }
        // Every character of the random part takes each of the 32 symbols: 125 times each on average, so a
        // fixed or missing bit (a version or variant bit of the UUID behind it, say) would leave some at 0.
        for (int i = 0; i < 16; i++) {
            assertThat(java.util.Arrays.stream(seen[i]).min().orElseThrow()).as("rarest symbol at random position %d", i)
                    .isGreaterThan(50);
        }
    }

    private static final String ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    @Test
    void outboxWriterRefusesToRunOutsideATransaction() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> outboxWriter.enqueue("UPSERT", "x", 1, null))
                .hasMessageContaining("VSYNC-OUTBOX-NO-TRANSACTION");
    }

    @Test
    void enqueueFunctionRejectsBadInputAndAbortsTheCallersTransaction() {
        long before = count("SELECT count(*) FROM outbox");
        for (String call : List.of("vectorsync.enqueue('MERGE', 'a', 1, '{}')", "vectorsync.enqueue('UPSERT', '', 1, '{}')",
                "vectorsync.enqueue('UPSERT', 'a', 0, '{}')", "vectorsync.enqueue('UPSERT', 'a', 1, NULL)",
                "vectorsync.enqueue('UPSERT', 'a', 1, '{\"privacy\":\"SECRET\"}')")) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> jdbc.queryForObject("SELECT " + call, String.class))
                    .hasMessageContaining("VSYNC-ENQUEUE-INVALID");
        }
        assertThat(count("SELECT count(*) FROM outbox")).isEqualTo(before);
    }

    @Test
    void putCreatesThenIncrementsTheVersionAndWritesOneLeanEventEach() throws Exception {
        ResponseEntity<String> created = put("v-1", chunkBody("one"));
        assertThat(created.getStatusCode().value()).isEqualTo(201);
        assertThat(created.getHeaders().getETag()).isEqualTo("\"1\"");
        ResponseEntity<String> updated = put("v-1", chunkBody("two"));
        assertThat(updated.getStatusCode().value()).isEqualTo(200);
        assertThat(json.readTree(updated.getBody()).get("version").asLong()).isEqualTo(2);
        assertThat(count("SELECT count(*) FROM outbox WHERE chunk_id = 'v-1' AND payload IS NULL")).isEqualTo(2);
        assertThat(jdbc.queryForList("SELECT version FROM outbox WHERE chunk_id = 'v-1' ORDER BY id", Long.class))
                .containsExactly(1L, 2L);
    }

    @Test
    void ifMatchAndBodyVersionGiveOptimisticConcurrency() throws Exception {
        put("occ-1", chunkBody("a"));
        assertThat(put("occ-1", chunkBody("b"), "\"1\"").getStatusCode().value()).isEqualTo(200);
        ResponseEntity<String> stale = put("occ-1", chunkBody("c"), "\"1\"");
        assertThat(stale.getStatusCode().value()).isEqualTo(412);
        assertThat(json.readTree(stale.getBody()).get("code").asText()).isEqualTo("VSYNC-VERSION-CONFLICT");

        Map<String, Object> body = chunkBody("d");
        body.put("version", 1);
        ResponseEntity<String> conflict = put("occ-1", body);
        assertThat(conflict.getStatusCode().value()).isEqualTo(409);
        body.put("version", 0);
        assertThat(put("occ-new", body).getStatusCode().value()).isEqualTo(201);
        assertThat(put("occ-new", body).getStatusCode().value()).isEqualTo(409);
        assertThat(put("occ-none", chunkBody("e"), "\"4\"").getStatusCode().value()).isEqualTo(412);
        assertThat(count("SELECT count(*) FROM chunks WHERE chunk_id = 'occ-none'")).isZero();
        assertThat(jdbc.queryForObject("SELECT content FROM chunks WHERE chunk_id = 'occ-1'", String.class)).isEqualTo("b");
        assertThat(count("SELECT count(*) FROM outbox WHERE chunk_id LIKE 'occ-%'")).isEqualTo(3);
    }

    @Test
    void deleteKeepsATombstoneSoARecreatedChunkContinuesItsVersions() throws Exception {
        put("t-1", chunkBody("a"));
        put("t-1", chunkBody("b"));
        ResponseEntity<String> del = delete("t-1");
        assertThat(del.getStatusCode().value()).isEqualTo(200);
        assertThat(json.readTree(del.getBody()).get("version").asLong()).isEqualTo(3);
        assertThat(delete("t-1").getStatusCode().value()).isEqualTo(404);
        assertThat(http.getForEntity("/api/v1/chunks/t-1", String.class).getStatusCode().value()).isEqualTo(404);
        ResponseEntity<String> again = put("t-1", chunkBody("c"));
        assertThat(json.readTree(again.getBody()).get("version").asLong()).isEqualTo(4);
        assertThat(jdbc.queryForList("SELECT type || ':' || version FROM outbox WHERE chunk_id = 't-1' ORDER BY id",
                String.class)).containsExactly("UPSERT:1", "UPSERT:2", "DELETE:3", "UPSERT:4");
    }

    @Test
    void getReturnsTheChunkWithItsSyncStatusPerBackend() throws Exception {
        put("g-1", chunkBody("hello"));
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> json.readTree(
                http.getForEntity("/api/v1/chunks/g-1", String.class).getBody()).at("/syncStatus/replica").asText()
                .equals("SYNCED"));
        JsonNode n = json.readTree(http.getForEntity("/api/v1/chunks/g-1", String.class).getBody());
        assertThat(n.get("content").asText()).isEqualTo("hello");
        assertThat(n.get("embedding")).hasSize(384);
        assertThat(n.get("version").asLong()).isEqualTo(1);
    }

    @Test
    void batchWritesAllChunksInOneTransactionOrNone() throws Exception {
        List<Object> items = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Map<String, Object> c = chunkBody("batch " + i);
            c.put("chunkId", "b-" + i);
            items.add(c);
        }
        ResponseEntity<String> ok = postBatch(write(Map.of("chunks", items)));
        assertThat(ok.getStatusCode().value()).isEqualTo(200);
        assertThat(json.readTree(ok.getBody()).get("results")).hasSize(20);
        assertThat(count("SELECT count(*) FROM chunks WHERE chunk_id LIKE 'b-%'")).isEqualTo(20);

        Map<String, Object> bad = chunkBody("bad");
        bad.put("chunkId", "b-bad");
        bad.put("embedding", List.of(1.0, 2.0));
        Map<String, Object> good = chunkBody("good");
        good.put("chunkId", "b-good");
        ResponseEntity<String> refused = postBatch(write(Map.of("chunks", List.of(good, bad))));
        assertThat(refused.getStatusCode().value()).isEqualTo(400);
        JsonNode err = json.readTree(refused.getBody());
        assertThat(err.get("code").asText()).isEqualTo("VSYNC-EMBEDDING-DIMENSION");
        assertThat(err.get("field").asText()).isEqualTo("chunks[1].embedding");
        assertThat(count("SELECT count(*) FROM chunks WHERE chunk_id IN ('b-good', 'b-bad')")).isZero();
    }

    @Test
    void badInputGetsAStableCodeAndWritesNothing() throws Exception {
        long chunks = count("SELECT count(*) FROM chunks");
        long events = count("SELECT count(*) FROM outbox");
        String emb383 = write(chunkBody("x").get("embedding")).replaceFirst("^\\[[^,]+,", "[");
        expect(put("bad-1", "{\"embedding\": " + emb383 + "}"), 400, "VSYNC-EMBEDDING-DIMENSION", "embedding");
        expect(put("bad-1", "{\"embedding\": [NaN]}"), 400, "VSYNC-MALFORMED-JSON", "body");
        String withInfinity = write(chunkBody("x").get("embedding")).replaceFirst("^\\[[^,]+,", "[1e999,");
        expect(put("bad-1", "{\"embedding\": " + withInfinity + "}"), 400, "VSYNC-EMBEDDING-NOT-FINITE", "embedding[0]");
        String beyondFloat = write(chunkBody("x").get("embedding")).replaceFirst("^\\[[^,]+,", "[1e39,");
        expect(put("bad-1", "{\"embedding\": " + beyondFloat + "}"), 400, "VSYNC-EMBEDDING-NOT-FINITE", "embedding[0]");
        expect(put("bad-1", "{\"content\": "), 400, "VSYNC-MALFORMED-JSON", "body");
        expect(put("bad-1", "[1,2]"), 400, "VSYNC-MALFORMED-JSON", "body");
        Map<String, Object> privacy = chunkBody("x");
        privacy.put("privacy", "SECRET");
        expect(put("bad-1", privacy), 400, "VSYNC-PRIVACY-INVALID", "privacy");
        Map<String, Object> unknown = chunkBody("x");
        unknown.put("colour", "red");
        expect(put("bad-1", unknown), 400, "VSYNC-UNKNOWN-FIELD", "colour");
        expect(put("x".repeat(257), chunkBody("x")), 400, "VSYNC-CHUNK-ID-INVALID", "chunkId");
        expect(put("ctl\u0001id", chunkBody("x")), 400, "VSYNC-CHUNK-ID-INVALID", "chunkId");
        Map<String, Object> version = chunkBody("x");
        version.put("version", "three");
        expect(put("bad-1", version), 400, "VSYNC-VERSION-INVALID", "version");
        expect(put("bad-1", chunkBody("x"), "\"abc\""), 400, "VSYNC-IF-MATCH-INVALID", "If-Match");

        HttpHeaders text = new HttpHeaders();
        text.setContentType(MediaType.TEXT_PLAIN);
        expect(http.exchange("/api/v1/chunks/bad-1", HttpMethod.PUT, new HttpEntity<>("hello", text), String.class),
                415, "VSYNC-UNSUPPORTED-MEDIA-TYPE", "Content-Type");
        String huge = "{\"content\": \"" + "a".repeat(9 * 1024 * 1024) + "\"}";
        expect(put("bad-1", huge), 413, "VSYNC-PAYLOAD-TOO-LARGE", "body");
        expect(postBatch("{\"chunks\": []}"), 400, "VSYNC-FIELD-TYPE", "chunks");

        assertThat(count("SELECT count(*) FROM chunks")).isEqualTo(chunks);
        assertThat(count("SELECT count(*) FROM outbox")).isEqualTo(events);
    }

    /**
     * A plain PUT is served by {@link io.vectorsync.api.ChunkPutFilter} without Spring MVC's dispatch; the
     * same request with an Accept header that is not plain (a q-value) goes through Spring MVC. Both must
     * answer alike (status, ETag, body) for writes and for every kind of refusal (MetricsIT checks that
     * both count in the same {@code http.server.requests} series).
     */
    @Test
    void theHotPathAndSpringMvcAnswerAlike() throws Exception {
        Map<String, Object> unknown = chunkBody("x");
        unknown.put("colour", "red");
        Map<String, Object> version = chunkBody("x");
        version.put("version", 7);
        List<Object[]> cases = List.of(new Object[] {chunkBody("one"), null}, new Object[] {chunkBody("two"), null},
                new Object[] {chunkBody("three"), "\"2\""}, new Object[] {chunkBody("stale"), "\"1\""},
                new Object[] {chunkBody("bad"), "abc"}, new Object[] {"{\"embedding\": [1, 2]}", null},
                new Object[] {"{\"content\": ", null}, new Object[] {"", null}, new Object[] {unknown, null},
                new Object[] {version, null}, new Object[] {chunkBody("four"), "*"});
        for (int i = 0; i < cases.size(); i++) {
            Object body = cases.get(i)[0];
            String ifMatch = (String) cases.get(i)[1];
            ResponseEntity<String> plain = put("hp-a", body, ifMatch);
            HttpHeaders h = new HttpHeaders();
            h.setContentType(MediaType.APPLICATION_JSON);
            h.set("Accept", "application/json;q=0.9");
            if (ifMatch != null) {
                h.set("If-Match", ifMatch);
            }
            ResponseEntity<String> spring = http.exchange("/api/v1/chunks/hp-b", HttpMethod.PUT,
                    new HttpEntity<>(body instanceof String str ? str : write(body), h), String.class);
            assertThat(plain.getStatusCode()).as("case %d: %s", i, plain.getBody()).isEqualTo(spring.getStatusCode());
            assertThat(plain.getHeaders().getETag()).as("case %d", i).isEqualTo(spring.getHeaders().getETag());
            assertThat(plain.getHeaders().getContentType()).as("case %d", i)
                    .isEqualTo(spring.getHeaders().getContentType());
            assertThat(json.readTree(plain.getBody().replace("hp-a", "hp-b"))).as("case %d", i)
                    .isEqualTo(json.readTree(spring.getBody()));
        }
        assertThat(count("SELECT version FROM chunks WHERE chunk_id = 'hp-a'")).isEqualTo(4);
        assertThat(count("SELECT count(*) FROM outbox WHERE chunk_id = 'hp-a'"))
                .isEqualTo(count("SELECT count(*) FROM outbox WHERE chunk_id = 'hp-b'"));
    }

    @Test
    void sqlLookingChunkIdsAreStoredLiterally() throws Exception {
        String id = "x'); DROP TABLE chunks; --";
        assertThat(put(id, chunkBody("literal")).getStatusCode().value()).isEqualTo(201);
        assertThat(count("SELECT count(*) FROM chunks WHERE chunk_id = ?", id)).isOne();
        // This chunk, not the whole table: an aggregate enqueued by another test of the class (ok-1, ADR 019)
        // is in the replica but not in chunks, which the table-wide comparison does not know.
        await().atMost(Duration.ofSeconds(10)).until(() -> count("SELECT count(*) FROM replica_chunks r JOIN chunks c"
                + " USING (chunk_id, version, content) WHERE chunk_id = ?", id) == 1);
        assertThat(count("SELECT count(*) FROM replica_chunks WHERE chunk_id = ?", id)).isOne();
    }

    private ResponseEntity<String> postBatch(String body) {
        HttpHeaders h = new HttpHeaders();
        h.setContentType(MediaType.APPLICATION_JSON);
        return http.exchange("/api/v1/chunks:batch", HttpMethod.POST, new HttpEntity<>(body, h), String.class);
    }

    private void expect(ResponseEntity<String> r, int status, String code, String field) throws Exception {
        assertThat(r.getStatusCode().value()).as(r.getBody()).isEqualTo(status);
        JsonNode n = json.readTree(r.getBody());
        assertThat(n.get("code").asText()).isEqualTo(code);
        assertThat(n.get("field").asText()).isEqualTo(field);
        assertThat(n.get("expected")).isNotNull();
    }
    /** Metadata with numbers a double cannot hold and a literal backslash-u-0000 in a string (legal JSON text). */
    private static final String EXACT_METADATA = "{\"big\":1e400,\"precise\":0.12345678901234567890123456789,"
            + "\"trailing\":1.50,\"bigint\":123456789012345678901234567890,\"text\":\"a\\\\u0000b\"}";

    private String bodyWithMetadata(String metadata, boolean usual) {
        List<Object> e = new ArrayList<>();
        for (float f : embedding(384)) {
            e.add(f);
        }
        String embedding = write(e);
        if (!usual) {
            // A value beyond a long is read by the strict path (the one-pass reader leaves such bodies to it).
            embedding = "[100000000000000000000" + embedding.substring(embedding.indexOf(','));
        }
        return "{\"documentId\":\"d\",\"content\":\"c\",\"embedding\":" + embedding + ",\"metadata\":" + metadata + "}";
    }

    private void assertMetadataKeptExactly(String chunkId) throws Exception {
        Map<String, Object> stored = jdbc.queryForMap("SELECT (metadata->'big')::numeric = 1e400 AS big,"
                + " metadata->>'precise' AS precise, metadata->>'trailing' AS trailing, metadata->>'bigint' AS bigint,"
                + " metadata->>'text' AS text FROM chunks WHERE chunk_id = ?", chunkId);
        assertThat(stored).as(chunkId).containsEntry("big", true)
                .containsEntry("precise", "0.12345678901234567890123456789").containsEntry("trailing", "1.50")
                .containsEntry("bigint", "123456789012345678901234567890").containsEntry("text", "a\\u0000b");
        ResponseEntity<String> got = http.getForEntity("/api/v1/chunks/{id}", String.class, chunkId);
        assertThat(got.getStatusCode().value()).isEqualTo(200);
        JsonNode meta = json.reader().with(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
                .readTree(got.getBody()).get("metadata");
        assertThat(meta.get("big").decimalValue()).as(got.getBody()).isEqualByComparingTo(new java.math.BigDecimal("1e400"));
        assertThat(meta.get("precise").decimalValue()).isEqualByComparingTo("0.12345678901234567890123456789");
        assertThat(meta.get("bigint").bigIntegerValue()).isEqualTo(new java.math.BigInteger("123456789012345678901234567890"));
        assertThat(meta.get("text").asText()).isEqualTo("a\\u0000b");
        assertThat(got.getBody()).contains("0.12345678901234567890123456789").contains("\"trailing\":1.50");
    }

    @Test
    void metadataNumbersAndEscapedTextAreKeptExactlyAsSentOnEveryIngestPath() throws Exception {
        for (String id : List.of("exact-fast", "exact-strict")) {
            ResponseEntity<String> r = put(id, bodyWithMetadata(EXACT_METADATA, id.equals("exact-fast")));
            assertThat(r.getStatusCode().value()).as(r.getBody()).isEqualTo(201);
        }
        HttpHeaders h = new HttpHeaders();
        h.setContentType(MediaType.APPLICATION_JSON);
        String batch = "{\"chunks\":[" + bodyWithMetadata(EXACT_METADATA, true).replaceFirst("\\{", "{\"chunkId\":\"exact-batch\",")
                + "," + bodyWithMetadata(EXACT_METADATA, false).replaceFirst("\\{", "{\"chunkId\":\"exact-batch-strict\",") + "]}";
        ResponseEntity<String> b = http.postForEntity("/api/v1/chunks:batch", new HttpEntity<>(batch, h), String.class);
        assertThat(b.getStatusCode().value()).as(b.getBody()).isEqualTo(200);
        for (String id : List.of("exact-fast", "exact-strict", "exact-batch", "exact-batch-strict")) {
            assertMetadataKeptExactly(id);
        }
    }

    @Test
    void metadataThatPostgresCannotHoldIsRefusedWithACodeAndWritesNothing() throws Exception {
        long before = count("SELECT count(*) FROM outbox");
        for (boolean usual : List.of(true, false)) {
            // Beyond PostgreSQL numeric (131072 digits before the point, 16383 after) ...
            // ... or, written out in full as PostgreSQL prints it, longer than a reader takes back (1,000 chars)
            for (String number : List.of("1e131072", "1.5e-16383", "1e1000", "1e-1000", "-1e999")) {
                ResponseEntity<String> r = put("too-big", bodyWithMetadata("{\"x\":" + number + "}", usual));
                assertThat(r.getStatusCode().value()).as(r.getBody()).isEqualTo(400);
                assertThat(json.readTree(r.getBody()).get("code").asText()).isEqualTo("VSYNC-METADATA-NUMBER");
                assertThat(json.readTree(r.getBody()).get("field").asText()).isEqualTo("metadata.x");
            }
            // ... and a real NUL character (the JSON escape), which jsonb cannot store.
            ResponseEntity<String> nul = put("nul", bodyWithMetadata("{\"x\":[\"a\\u0000b\"]}", usual));
            assertThat(nul.getStatusCode().value()).as(nul.getBody()).isEqualTo(400);
            assertThat(json.readTree(nul.getBody()).get("code").asText()).isEqualTo("VSYNC-FIELD-TYPE");
            ResponseEntity<String> nulKey = put("nul", bodyWithMetadata("{\"a\\u0000\":1}", usual));
            assertThat(json.readTree(nulKey.getBody()).get("code").asText()).isEqualTo("VSYNC-FIELD-TYPE");
        }
        assertThat(count("SELECT count(*) FROM chunks WHERE chunk_id IN ('too-big', 'nul')")).isZero();
        assertThat(count("SELECT count(*) FROM outbox")).isEqualTo(before);

        // The longest that is kept reads back whole: 999 digits and the point's absence, 1,000 with a sign.
        assertThat(put("longest", bodyWithMetadata("{\"x\":-1e998}", true)).getStatusCode().value()).isEqualTo(201);
        ResponseEntity<String> back = http.getForEntity("/api/v1/chunks/longest", String.class);
        assertThat(back.getStatusCode().value()).as(back.getBody()).isEqualTo(200);
        assertThat(back.getBody()).contains("-1" + "0".repeat(998));
    }
    @Test
    void aLeanUpsertForAChunkNotInChunksIsRefusedByBothCaptureFunctionsWithTheSameCode() {
        long before = count("SELECT count(*) FROM outbox");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> tx.executeWithoutResult(
                        s -> outboxWriter.enqueue("UPSERT", "not-in-chunks", 1, null)))
                .hasMessageContaining("VSYNC-ENQUEUE-INVALID");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> jdbc.queryForObject(
                        "SELECT vectorsync.enqueue('UPSERT', 'not-in-chunks', 1, NULL)", String.class))
                .hasMessageContaining("VSYNC-ENQUEUE-INVALID");
        assertThat(count("SELECT count(*) FROM outbox")).isEqualTo(before);
        // A lean UPSERT of a chunk the application keeps in chunks is still accepted (then rolled back:
        // a one-number embedding is not for the replica).
        tx.executeWithoutResult(s -> {
            jdbc.update("INSERT INTO chunks (chunk_id, version, embedding) VALUES ('in-chunks', 1, '{1}')");
            outboxWriter.enqueue("UPSERT", "in-chunks", 1, null);
            assertThat(count("SELECT count(*) FROM outbox WHERE chunk_id = 'in-chunks'")).isOne();
            s.setRollbackOnly();
        });
    }
}
