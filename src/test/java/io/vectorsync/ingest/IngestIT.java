package io.vectorsync.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vectorsync.domain.Embeddings;
import io.vectorsync.embedding.EmbeddingProvider;
import io.vectorsync.relay.Failpoints;
import io.vectorsync.support.AbstractIT;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.http.HttpEntity;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.test.context.TestPropertySource;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * INGEST end to end with the real local model, the real queue and the replica backend: the first ingest,
 * incremental re-ingests (changed, moved, vanished, identical), a superseded revision, chunks a client PUT
 * under the document kept, privacy levels, refusals that queue nothing, and a PUT without an embedding.
 * INGEST's completed-window is 0s here, so an identical document is a new job that must change nothing.
 */
@TestPropertySource(properties = {"vectorsync.jobs.poll-interval=100ms",
        "vectorsync.jobs.types[INGEST].completed-window=0s"})
class IngestIT extends AbstractIT {

    private static final String MODEL = "all-MiniLM-L6-v2";

    @Autowired
    EmbeddingProvider provider;

    @Autowired
    EmbeddedWrites writes;

    @Autowired
    Failpoints failpoints;

    @Autowired
    TransactionTemplate tx;

    private ResponseEntity<String> post(String path, Object body) {
        HttpHeaders h = new HttpHeaders();
        h.setContentType(MediaType.APPLICATION_JSON);
        return http.exchange(path, HttpMethod.POST, new HttpEntity<>(write(body), h), String.class);
    }

    private Map<String, Object> doc(String id, String text) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("documentId", id);
        d.put("text", text);
        d.put("metadata", Map.of("source", "handbook", "lang", "en"));
        return d;
    }

    /** Ingests and waits for the job; returns it. */
    private JsonNode ingest(Map<String, Object> doc) throws Exception {
        ResponseEntity<String> r = post("/api/v1/documents:ingest", doc);
        assertThat(r.getStatusCode().value()).as(r.getBody()).isEqualTo(202);
        String id = json.readTree(r.getBody()).path("id").asText();
        assertThat(r.getHeaders().getLocation()).hasToString("/api/v1/jobs/" + id);
        return awaitJobCompleted(id);
    }


    /** Live chunks of a document: id → version. */
    private Map<String, Long> live(String documentId) {
        Map<String, Long> m = new LinkedHashMap<>();
        jdbc.query("SELECT chunk_id, version FROM chunks WHERE document_id = ? AND NOT deleted ORDER BY chunk_id",
                rs -> {
                    m.put(rs.getString(1), rs.getLong(2));
                }, documentId);
        return m;
    }

    private long events(String chunkIdPrefix) {
        return count("SELECT count(*) FROM outbox WHERE chunk_id LIKE ?", chunkIdPrefix + "%");
    }

    private String idOf(String documentId, int position) {
        return jdbc.queryForObject("SELECT chunk_id FROM chunks WHERE document_id = ? AND NOT deleted"
                + " AND (metadata->'ingest'->>'position')::int = ?", String.class, documentId, position);
    }

    private float[] embeddingOf(String chunkId) {
        return jdbc.queryForObject("SELECT embedding FROM chunks WHERE chunk_id = ?",
                (rs, n) -> Embeddings.fromSql(rs.getArray(1)), chunkId);
    }

    @Test
    void ingestThenIncrementalReingests() throws Exception {
        String a = "Alpha paragraph about cats.";
        String b = "Beta paragraph about dogs.";
        String c = "Gamma paragraph about birds.";
        JsonNode first = ingest(doc("hb", a + "\n\n" + b + "\n\n" + c));
        assertThat(first.path("result").path("written").asInt()).isEqualTo(3);
        assertThat(first.path("result").path("embedded").asInt()).isEqualTo(3);
        assertThat(first.path("correlation").path("documentId").asText()).isEqualTo("hb");
        assertThat(first.path("correlation").path("digest").asText()).hasSize(32);
        Map<String, Long> v1 = live("hb");
        assertThat(v1).hasSize(3).allSatisfy((id, v) -> {
            assertThat(id).matches("hb:[0-9a-f]{16}:1");
            assertThat(v).isEqualTo(1L);
        });
        assertThat(count("SELECT count(*) FROM chunks WHERE document_id = 'hb' AND embedding_model = ?"
                + " AND embedding_model_version = ? AND metadata->>'source' = 'handbook'", MODEL, provider.modelVersion()))
                .isEqualTo(3);
        assertThat(jdbc.queryForObject("SELECT content FROM chunks WHERE chunk_id = ?", String.class, idOf("hb", 1)))
                .isEqualTo(b);
        // The stored embedding is the model's embedding of the chunk text.
        assertThat(embeddingOf(idOf("hb", 0))).containsExactly(provider.embed(List.of(a)).get(0));
        assertThat(events("hb:")).isEqualTo(3);
        awaitReplicaInStep(Duration.ofSeconds(20));

        // The same document again while the last job is recent: idempotent enqueue is bypassed here
        // (window 0s), so a new job runs and finds everything unchanged.
        JsonNode same = ingest(doc("hb", a + "\n\n" + b + "\n\n" + c));
        assertThat(same.path("result").path("written").asInt()).isZero();
        assertThat(same.path("result").path("unchanged").asInt()).isEqualTo(3);
        assertThat(same.path("result").path("embedded").asInt()).isZero();
        assertThat(live("hb")).isEqualTo(v1);
        assertThat(events("hb:")).isEqualTo(3);

        // B changed, D added at the end: A and C keep id, version and event count; B is deleted.
        String b2 = "Beta paragraph about wolves.";
        String d = "Delta paragraph about fish.";
        String aId = idOf("hb", 0);
        String bId = idOf("hb", 1);
        String cId = idOf("hb", 2);
        JsonNode second = ingest(doc("hb", a + "\n\n" + b2 + "\n\n" + c + "\n\n" + d));
        assertThat(second.path("result").path("embedded").asInt()).isEqualTo(2);
        assertThat(second.path("result").path("written").asInt()).isEqualTo(2);
        assertThat(second.path("result").path("deleted").asInt()).isEqualTo(1);
        Map<String, Long> v2 = live("hb");
        assertThat(v2).hasSize(4).containsEntry(aId, 1L).containsEntry(cId, 1L).doesNotContainKey(bId);
        assertThat(count("SELECT count(*) FROM outbox WHERE chunk_id = ? AND type = 'DELETE'", bId)).isOne();
        assertThat(count("SELECT count(*) FROM outbox WHERE chunk_id IN (?, ?)", aId, cId)).isEqualTo(2);

        // A paragraph inserted at the top moves every other chunk: a new version each (its position is
        // metadata), but only the new paragraph is embedded; the moved ones keep their embeddings.
        float[] aBefore = embeddingOf(aId);
        JsonNode third = ingest(doc("hb", "New opening paragraph.\n\n" + a + "\n\n" + b2 + "\n\n" + c + "\n\n" + d));
        assertThat(third.path("result").path("embedded").asInt()).isEqualTo(1);
        assertThat(third.path("result").path("written").asInt()).isEqualTo(5);
        assertThat(live("hb")).hasSize(5).containsEntry(aId, 2L).containsEntry(cId, 2L);
        assertThat(idOf("hb", 1)).isEqualTo(aId);
        assertThat(embeddingOf(aId)).containsExactly(aBefore);
        awaitReplicaInStep(Duration.ofSeconds(20));
    }

    @Test
    void aSupersededRevisionWritesNothing() throws Exception {
        // The older revision (enqueued first) is held back by runAt; the newer one runs and writes first.
        Map<String, Object> envelope = new LinkedHashMap<>();
        envelope.put("type", "INGEST");
        envelope.put("payload", doc("rev", "Old text of the document."));
        envelope.put("runAt", Instant.now().plusSeconds(3).toString());
        ResponseEntity<String> older = post("/api/v1/jobs", envelope);
        assertThat(older.getStatusCode().value()).as(older.getBody()).isEqualTo(202);
        String olderId = json.readTree(older.getBody()).path("id").asText();
        JsonNode newer = ingest(doc("rev", "New text of the document."));
        assertThat(newer.path("result").path("superseded").asBoolean()).isFalse();
        JsonNode old = awaitJobCompleted(olderId);
        assertThat(old.path("result").path("superseded").asBoolean()).as(old.toString()).isTrue();
        assertThat(old.path("result").path("written").asInt()).isZero();
        assertThat(jdbc.queryForList("SELECT content FROM chunks WHERE document_id = 'rev' AND NOT deleted", String.class))
                .containsExactly("New text of the document.");
        assertThat(count("SELECT revision FROM documents WHERE document_id = 'rev'")).isOne();
    }

    @Test
    void chunksAClientPutUnderTheDocumentAreNeverDeleted() throws Exception {
        ingest(doc("mix", "First.\n\nSecond."));
        String second = idOf("mix", 1);
        // A client's own chunk under the same document id, and a client's rewrite of an ingest chunk.
        Map<String, Object> mine = chunkBody("written by a client");
        mine.put("documentId", "mix");
        assertThat(put("mix-client-note", mine).getStatusCode().value()).isEqualTo(201);
        Map<String, Object> over = chunkBody("Second, as the client rewrote it.");
        over.put("documentId", "mix");
        assertThat(put(second, over).getStatusCode().value()).isEqualTo(200);
        assertThat(count("SELECT count(*) FROM chunks WHERE chunk_id = ? AND embedding_model IS NULL", second))
                .as("the client's embedding is no model's").isOne();

        JsonNode r = ingest(doc("mix", "Only a third paragraph now."));
        assertThat(r.path("result").path("deleted").asInt()).isEqualTo(1); // "First."
        assertThat(r.path("result").path("forgotten").asInt()).isEqualTo(1); // the rewritten "Second."
        assertThat(live("mix")).containsKeys("mix-client-note", second).hasSize(3);
        assertThat(count("SELECT count(*) FROM document_chunks WHERE document_id = 'mix'")).isOne();
    }

    @Test
    void privacyLevelsDecideWhatLeavesThePrimary() throws Exception {
        Map<String, Object> local = doc("priv", "Salary figures for the team.\n\nThe other paragraph.");
        local.put("privacy", "LOCAL_ONLY");
        JsonNode r = ingest(local);
        assertThat(r.path("result").path("written").asInt()).isEqualTo(2);
        assertThat(count("SELECT count(*) FROM chunks WHERE document_id = 'priv' AND privacy = 'LOCAL_ONLY'"
                + " AND embedding IS NOT NULL")).isEqualTo(2);
        assertThat(events("priv:")).as("a LOCAL_ONLY chunk no backend had sends nothing").isZero();

        // The same text as REDACTED: privacy is in the hash, so both chunks are rewritten (not re-embedded)
        // and the replica gets them without content.
        Map<String, Object> redacted = doc("priv", "Salary figures for the team.\n\nThe other paragraph.");
        redacted.put("privacy", "REDACTED");
        JsonNode r2 = ingest(redacted);
        assertThat(r2.path("result").path("written").asInt()).isEqualTo(2);
        assertThat(r2.path("result").path("embedded").asInt()).isZero();
        assertThat(events("priv:")).isEqualTo(2);
        awaitReplicaInStep(Duration.ofSeconds(20));
        assertThat(count("SELECT count(*) FROM replica_chunks WHERE chunk_id LIKE 'priv:%' AND content IS NULL"))
                .isEqualTo(2);
    }

    @Test
    void badDocumentsAreRefusedAndQueueNothing() throws Exception {
        long jobs = count("SELECT count(*) FROM jobs");
        Map<String, Object> noText = new LinkedHashMap<>(Map.of("documentId", "x"));
        ResponseEntity<String> r = post("/api/v1/documents:ingest", noText);
        assertThat(r.getStatusCode().value()).as(r.getBody()).isEqualTo(400);
        assertThat(json.readTree(r.getBody()).path("code").asText()).isEqualTo("VSYNC-JOB-INVALID");
        Map<String, Object> linkId = doc("link:x", "text");
        assertThat(post("/api/v1/documents:ingest", linkId).getStatusCode().value()).isEqualTo(400);
        Map<String, Object> reserved = doc("x", "text");
        reserved.put("metadata", Map.of("ingest", 1));
        assertThat(post("/api/v1/documents:ingest", reserved).getStatusCode().value()).isEqualTo(400);
        assertThat(count("SELECT count(*) FROM jobs")).isEqualTo(jobs);
    }

    @Test
    void aPutWithoutAnEmbeddingIsEmbeddedByTheProvider() throws Exception {
        ObjectNode body = json.createObjectNode();
        body.put("documentId", "notes");
        body.put("content", "a cat sat on the mat");
        ResponseEntity<String> r = put("note-1", body.toString());
        assertThat(r.getStatusCode().value()).as(r.getBody()).isEqualTo(201);
        assertThat(embeddingOf("note-1")).containsExactly(provider.embed(List.of("a cat sat on the mat")).get(0));
        assertThat(count("SELECT count(*) FROM chunks WHERE chunk_id = 'note-1' AND embedding_model = ?", MODEL)).isOne();
        assertThat(count("SELECT count(*) FROM outbox WHERE chunk_id = 'note-1'")).isOne();
        // With its own embedding the chunk is the client's again: no model recorded.
        assertThat(put("note-1", chunkBody("mine")).getStatusCode().value()).isEqualTo(200);
        assertThat(count("SELECT count(*) FROM chunks WHERE chunk_id = 'note-1' AND embedding_model IS NULL")).isOne();
        // Neither an embedding nor content: refused as before, nothing written.
        ResponseEntity<String> none = put("note-2", "{\"documentId\":\"notes\"}");
        assertThat(none.getStatusCode().value()).isEqualTo(400);
        assertThat(json.readTree(none.getBody()).path("code").asText()).isEqualTo("VSYNC-EMBEDDING-MISSING");
        assertThat(count("SELECT count(*) FROM chunks WHERE chunk_id = 'note-2'")).isZero();
    }

    /**
     * What the schema cannot say is still a 400 that queues nothing: an overlap not below the budget, and a
     * document id of 200 code points that are 400 UTF-16 units (the schema counts code points).
     */
    @Test
    void aPayloadTheSchemaAcceptsButTheIngestCannotUseIsA400() throws Exception {
        long before = count("SELECT count(*) FROM jobs");
        Map<String, Object> d = doc("overlap", "Some text.");
        d.put("chunking", Map.of("maxChars", 100, "overlapChars", 100));
        ResponseEntity<String> r = post("/api/v1/documents:ingest", d);
        assertThat(r.getStatusCode().value()).as(r.getBody()).isEqualTo(400);
        JsonNode p = json.readTree(r.getBody());
        assertThat(p.path("code").asText()).isEqualTo("VSYNC-JOB-INVALID");
        assertThat(p.path("expected").asText()).contains("VSYNC-INGEST-CHUNKING");
        assertThat(count("SELECT count(*) FROM jobs")).isEqualTo(before);
        String emoji = "\uD83D\uDE80".repeat(200);
        ResponseEntity<String> wide = post("/api/v1/documents:ingest", doc(emoji, "Some text."));
        assertThat(wide.getStatusCode().value()).as(wide.getBody()).isEqualTo(202);
        awaitJobCompleted(json.readTree(wide.getBody()).path("id").asText());
        assertThat(count("SELECT count(*) FROM chunks WHERE document_id = ?", emoji)).isOne();
    }

    /**
     * The real model; before each call {@code before} runs with the call's number (1: the first), and each
     * call notes whether the calling thread was inside a transaction.
     */
    private EmbeddingProvider racing(Consumer<Integer> before, List<Boolean> inTransaction) {
        java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        return new ForwardingProvider(provider, texts -> {
            inTransaction.add(TransactionSynchronizationManager.isActualTransactionActive());
            before.accept(calls.incrementAndGet());
        });
    }

    private IngestHandler handler(EmbeddingProvider p) {
        Map<String, Object> beans = new LinkedHashMap<>();
        beans.put("provider", p);
        ObjectProvider<EmbeddingProvider> only = new StaticListableBeanFactory(beans).getBeanProvider(
                EmbeddingProvider.class);
        return new IngestHandler(only, writes, jdbc, failpoints);
    }

    /** A client's PUT of the chunk with its own embedding (no model recorded) and the same text. */
    private void clientRewrites(String documentId, int position) {
        String id = idOf(documentId, position);
        String content = jdbc.queryForObject("SELECT content FROM chunks WHERE chunk_id = ?", String.class, id);
        Map<String, Object> body = chunkBody(content);
        body.put("documentId", documentId);
        assertThat(put(id, body).getStatusCode().value()).isEqualTo(200);
    }

    /**
     * A client's PUT between the two phases leaves a chunk that must be embedded after all (its row no longer
     * holds the model's embedding): the model is called outside the write transaction, the write phase runs
     * again, and the document ends as the ingest's text with the model's embeddings.
     */
    @Test
    void aChunkChangedBetweenThePhasesIsEmbeddedOutsideTheWriteTransaction() throws Exception {
        String a = "Late alpha paragraph.";
        String b = "Late beta paragraph.";
        ingest(doc("late", a + "\n\n" + b));
        String aId = idOf("late", 0);
        List<Boolean> inTransaction = new CopyOnWriteArrayList<>();
        // The first call embeds the new paragraph (phase 1); meanwhile a client rewrites A.
        IngestHandler h = handler(racing(n -> {
            if (n == 1) {
                clientRewrites("late", 0);
            }
        }, inTransaction));
        String c = "Late gamma paragraph, new.";
        Map<String, Object> result = h.run(new TestJobContext("late-job", json.valueToTree(doc("late",
                a + "\n\n" + b + "\n\n" + c))));
        assertThat(inTransaction).as("model calls inside a transaction").containsExactly(false, false);
        assertThat(result).containsEntry("superseded", false).containsEntry("written", 2)
                .containsEntry("unchanged", 1).containsEntry("embedded", 2);
        assertThat(live("late")).hasSize(3).containsEntry(aId, 3L);
        assertThat(embeddingOf(aId)).containsExactly(provider.embed(List.of(a)).get(0));
        assertThat(count("SELECT count(*) FROM chunks WHERE document_id = 'late' AND embedding_model = ?", MODEL))
                .isEqualTo(3);
        assertThat(count("SELECT version FROM document_chunks WHERE chunk_id = ?", aId)).isEqualTo(3);
    }

    /** Rows that keep changing between embedding and writing: a bounded number of rounds, then a retry. */
    @Test
    void chunksThatKeepChangingFailTheAttemptTransientlyAndWriteNothing() throws Exception {
        List<String> paragraphs = List.of("Busy one.", "Busy two.", "Busy three.", "Busy four.");
        ingest(doc("busy", String.join("\n\n", paragraphs)));
        Map<String, Long> before = live("busy");
        List<String> ids = List.of(idOf("busy", 0), idOf("busy", 1), idOf("busy", 2));
        long events = events("busy:");
        List<Boolean> inTransaction = new CopyOnWriteArrayList<>();
        // Each model call, a client rewrites the next paragraph's chunk.
        IngestHandler h = handler(racing(n -> clientRewrites("busy", n - 1), inTransaction));
        Map<String, Object> changed = doc("busy", String.join("\n\n", paragraphs) + "\n\nBusy five, new.");
        assertThatThrownBy(() -> h.run(new TestJobContext("busy-job", json.valueToTree(changed))))
                .isInstanceOf(IllegalStateException.class).hasMessageStartingWith("VSYNC-INGEST-CONFLICT:");
        assertThat(inTransaction).hasSize(IngestHandler.WRITE_ROUNDS).containsOnly(false);
        Map<String, Long> clients = new LinkedHashMap<>(before);
        for (int i = 0; i < IngestHandler.WRITE_ROUNDS; i++) {
            clients.merge(ids.get(i), 1L, Long::sum);
        }
        assertThat(live("busy")).as("only the clients' writes").isEqualTo(clients);
        assertThat(events("busy:")).isEqualTo(events + IngestHandler.WRITE_ROUNDS);
    }

    /**
     * The model recorded with a chunk describes its stored embedding: an update that keeps the embedding (a
     * repair's version raise, a metadata change) keeps it; a new embedding takes the writer's model, or none.
     */
    @Test
    void anUpdateThatKeepsTheEmbeddingKeepsItsRecordedModel() throws Exception {
        ingest(doc("kept", "A paragraph whose model is recorded."));
        String id = idOf("kept", 0);
        String model = "SELECT embedding_model || '@' || embedding_model_version FROM chunks WHERE chunk_id = ?";
        String recorded = MODEL + "@" + provider.modelVersion();
        assertThat(jdbc.queryForObject(model, String.class, id)).isEqualTo(recorded);
        jdbc.update("UPDATE chunks SET version = version + 1, updated_at = clock_timestamp() WHERE chunk_id = ?", id);
        assertThat(jdbc.queryForObject(model, String.class, id)).as("after a version raise").isEqualTo(recorded);
        jdbc.update("UPDATE chunks SET metadata = metadata || '{\"lang\": \"de\"}', version = version + 1"
                + " WHERE chunk_id = ?", id);
        assertThat(jdbc.queryForObject(model, String.class, id)).as("after a metadata change").isEqualTo(recorded);
        // The same embedding written in a transaction that names a model: that writer vouches for it.
        tx.executeWithoutResult(s -> {
            jdbc.queryForList("SELECT set_config('vectorsync.embedding_model', 'other', true),"
                    + " set_config('vectorsync.embedding_model_version', '2', true)");
            jdbc.update("UPDATE chunks SET version = version + 1 WHERE chunk_id = ?", id);
        });
        assertThat(jdbc.queryForObject(model, String.class, id)).isEqualTo("other@2");
        // Another embedding with no model named: nobody's.
        jdbc.update("UPDATE chunks SET embedding[1] = embedding[1] + 1, version = version + 1 WHERE chunk_id = ?", id);
        assertThat(count("SELECT count(*) FROM chunks WHERE chunk_id = ? AND embedding_model IS NULL"
                + " AND embedding_model_version IS NULL", id)).isOne();
        // Another embedding in a transaction that names a model: that model's.
        tx.executeWithoutResult(s -> {
            jdbc.queryForList("SELECT set_config('vectorsync.embedding_model', 'third', true),"
                    + " set_config('vectorsync.embedding_model_version', '3', true)");
            jdbc.update("UPDATE chunks SET embedding[1] = embedding[1] + 1, version = version + 1 WHERE chunk_id = ?",
                    id);
        });
        assertThat(jdbc.queryForObject(model, String.class, id)).isEqualTo("third@3");
        // A delete (no embedding any more) records none.
        assertThat(delete(id).getStatusCode().value()).isIn(200, 204);
        assertThat(count("SELECT count(*) FROM chunks WHERE chunk_id = ? AND embedding_model IS NULL", id)).isOne();
    }
}
