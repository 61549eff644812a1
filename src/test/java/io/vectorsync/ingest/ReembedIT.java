package io.vectorsync.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.vectorsync.config.EmbeddingProperties;
import io.vectorsync.config.VectorsyncProperties;
import io.vectorsync.domain.Embeddings;
import io.vectorsync.embedding.EmbeddingProvider;
import io.vectorsync.embedding.OpenAiEmbeddingProvider;
import io.vectorsync.jobs.PermanentJobException;
import io.vectorsync.support.AbstractIT;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.http.HttpEntity;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.test.context.TestPropertySource;

/**
 * REEMBED with the real local model over chunks clients wrote with their own embeddings: by document, by
 * metadata filter and all; a second run changes nothing; a client's write between the read and the write
 * wins and the chunk is read again; a model of another dimension is refused before anything is written;
 * the job reports progress to its total.
 */
@TestPropertySource(properties = {"vectorsync.jobs.poll-interval=100ms",
        "vectorsync.jobs.types[REEMBED].completed-window=0s"})
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReembedIT extends AbstractIT {

    @Autowired
    EmbeddingProvider provider;

    @Autowired
    EmbeddedWrites writes;

    @Autowired
    VectorsyncProperties properties;

    private void client(String id, String documentId, String content, Map<String, Object> metadata) {
        Map<String, Object> b = chunkBody(content);
        b.put("documentId", documentId);
        b.put("metadata", metadata);
        ResponseEntity<String> r = put(id, b);
        assertThat(r.getStatusCode().value()).as(r.getBody()).isIn(200, 201);
    }

    private JsonNode reembed(Map<String, Object> payload) throws Exception {
        HttpHeaders h = new HttpHeaders();
        h.setContentType(MediaType.APPLICATION_JSON);
        ResponseEntity<String> r = http.exchange("/api/v1/jobs", HttpMethod.POST,
                new HttpEntity<>(write(Map.of("type", "REEMBED", "payload", payload)), h), String.class);
        assertThat(r.getStatusCode().value()).as(r.getBody()).isEqualTo(202);
        String id = json.readTree(r.getBody()).path("id").asText();
        return awaitJobCompleted(id);
    }

    private long modelled(String where) {
        return count("SELECT count(*) FROM chunks WHERE embedding_model = ? AND embedding_model_version = ? AND " + where,
                provider.model(), provider.modelVersion());
    }

    private float[] embeddingOf(String chunkId) {
        return jdbc.queryForObject("SELECT embedding FROM chunks WHERE chunk_id = ?",
                (rs, n) -> Embeddings.fromSql(rs.getArray(1)), chunkId);
    }

    @Test
    @Order(1) // first: "all" then means the chunks written here
    void byDocumentMetadataAndAllThenNothingTheSecondTime() throws Exception {
        for (int i = 0; i < 40; i++) {
            client("ra-" + i, "doc-a", "Chunk number " + i + " of document A.", Map.of("team", i % 2 == 0 ? "red" : "blue"));
        }
        for (int i = 0; i < 5; i++) {
            client("rb-" + i, "doc-b", "Chunk number " + i + " of document B.", Map.of("team", "green"));
        }
        long eventsBefore = count("SELECT count(*) FROM outbox");

        JsonNode byDoc = reembed(Map.of("documentId", "doc-b"));
        assertThat(byDoc.path("result").path("selected").asInt()).isEqualTo(5);
        assertThat(byDoc.path("result").path("reembedded").asInt()).isEqualTo(5);
        assertThat(byDoc.path("progress").path("done").asInt()).isEqualTo(5);
        assertThat(byDoc.path("progress").path("total").asInt()).isEqualTo(5);
        assertThat(modelled("document_id = 'doc-b' AND version = 2")).isEqualTo(5);
        assertThat(modelled("document_id = 'doc-a'")).isZero();
        assertThat(embeddingOf("rb-3")).containsExactly(provider.embed(List.of("Chunk number 3 of document B.")).get(0));
        assertThat(count("SELECT count(*) FROM outbox")).isEqualTo(eventsBefore + 5);

        JsonNode byMeta = reembed(Map.of("metadata", Map.of("team", "red")));
        assertThat(byMeta.path("result").path("reembedded").asInt()).isEqualTo(20);
        assertThat(modelled("metadata->>'team' = 'red'")).isEqualTo(20);
        assertThat(modelled("metadata->>'team' = 'blue'")).isZero();

        JsonNode all = reembed(Map.of("all", true));
        assertThat(all.path("result").path("selected").asInt()).isEqualTo(20); // only the blue ones were left
        assertThat(modelled("true")).isEqualTo(45);
        long events = count("SELECT count(*) FROM outbox");
        assertThat(events).isEqualTo(eventsBefore + 45);

        JsonNode again = reembed(Map.of("all", true));
        assertThat(again.path("result").path("selected").asInt()).isZero();
        assertThat(again.path("result").path("reembedded").asInt()).isZero();
        assertThat(count("SELECT count(*) FROM outbox")).isEqualTo(events);
        assertThat(count("SELECT count(*) FROM chunks WHERE document_id IN ('doc-a', 'doc-b') AND version <> 2")).isZero();
        awaitReplicaInStep(Duration.ofSeconds(30));
    }

    @Test
    void aClientWriteBetweenReadAndWriteWinsAndIsReadAgain() {
        client("race-1", "doc-r", "The original text.", Map.of());
        client("race-2", "doc-r", "Another chunk.", Map.of());
        // The real model, but while it embeds the first page a client rewrites race-1 through the API.
        AtomicBoolean raced = new AtomicBoolean();
        EmbeddingProvider racing = new ForwardingProvider(provider, texts -> {
            if (raced.compareAndSet(false, true)) {
                client("race-1", "doc-r", "The client's newer text.", Map.of("by", "client"));
            }
        });
        ReembedHandler handler = new ReembedHandler(only(racing), writes, jdbc, properties);
        TestJobContext ctx = new TestJobContext("reembed-race", json.valueToTree(Map.of("documentId", "doc-r")));
        Map<String, Object> result = handler.run(ctx);
        assertThat(result).containsEntry("conflicts", 1).containsEntry("reembedded", 2);
        Map<String, Object> row = jdbc.queryForMap("SELECT version, content, metadata->>'by' AS by, embedding_model"
                + " FROM chunks WHERE chunk_id = 'race-1'");
        assertThat(row).containsEntry("version", 3L).containsEntry("content", "The client's newer text.")
                .containsEntry("by", "client").containsEntry("embedding_model", provider.model());
        assertThat(embeddingOf("race-1")).containsExactly(provider.embed(List.of("The client's newer text.")).get(0));
        assertThat(ctx.reported()).last().satisfies(p -> assertThat(p).containsExactly(2, 2));
    }

    @Test
    void aModelOfAnotherDimensionIsRefusedBeforeAnyWrite() throws Exception {
        client("dim-1", "doc-d", "Some text.", Map.of());
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/embeddings", x -> {
            byte[] body = "{\"data\":[{\"index\":0,\"embedding\":[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]}]}"
                    .getBytes(StandardCharsets.UTF_8);
            x.sendResponseHeaders(200, body.length);
            x.getResponseBody().write(body);
            x.close();
        });
        server.start();
        try {
            EmbeddingProperties.OpenAi o = new EmbeddingProperties.OpenAi("http://127.0.0.1:"
                    + server.getAddress().getPort() + "/v1", "small-model", "1", "", 8, 16, Duration.ofSeconds(2),
                    Duration.ofSeconds(5), 0, Duration.ofSeconds(1), false, false);
            EmbeddingProvider other = new OpenAiEmbeddingProvider(o, 8, json, Clock.systemUTC());
            assertThat(other.embed(List.of("x")).get(0)).hasSize(8); // the endpoint works; its dimension is 8
            long events = count("SELECT count(*) FROM outbox");
            ReembedHandler handler = new ReembedHandler(only(other), writes, jdbc, properties);
            assertThatThrownBy(() -> handler.run(new TestJobContext("reembed-dim", json.valueToTree(Map.of("all", true)))))
                    .isInstanceOfSatisfying(PermanentJobException.class,
                            e -> assertThat(e.code()).isEqualTo("VSYNC-EMBED-DIMENSION"));
            assertThat(count("SELECT count(*) FROM outbox")).isEqualTo(events);
            assertThat(count("SELECT version FROM chunks WHERE chunk_id = 'dim-1'")).isOne();
        } finally {
            server.stop(0);
        }
    }

    private static ObjectProvider<EmbeddingProvider> only(EmbeddingProvider p) {
        Map<String, Object> beans = new LinkedHashMap<>();
        beans.put("provider", p);
        return new StaticListableBeanFactory(beans).getBeanProvider(EmbeddingProvider.class);
    }
}
