package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.vectorsync.backend.BackendRegistry;
import io.vectorsync.backend.LeaseFence;
import io.vectorsync.backend.ReadBack;
import io.vectorsync.backend.StoredChunk;
import io.vectorsync.domain.Change;
import io.vectorsync.domain.ChunkData;
import io.vectorsync.domain.Privacy;
import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.ChromaServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Array;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Chroma can't make a write conditional on the lease fence: the fence is checked by one call and the
 * record replaced by two more (delete, add). A loopback proxy in front of a real Chroma holds this
 * relay's delete of chunk x (v2) until a newer lease holder has written x v3 and committed its ledger;
 * the held delete then removes v3 and the add lands v2, so Chroma holds v2 while the ledger says 3.
 * The former holder finds its lease lost, records x as suspect, and once it holds the lease again (the
 * current holder) it re-reads and rewrites x: Chroma ends at v3.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "vectorsync.backends.chroma.type=chroma",
        "vectorsync.backends.chroma.chroma.collection=fenced-chunks",
        "vectorsync.backends.chroma.read-timeout=30s"})
class ChromaFenceIT extends AbstractIT {

    private static ChromaServer chroma;
    private static HttpServer proxy;
    private static final HttpClient client = HttpClient.newHttpClient();
    private static final AtomicBoolean holdNextDelete = new AtomicBoolean();
    private static final CountDownLatch held = new CountDownLatch(1);
    private static final CountDownLatch release = new CountDownLatch(1);

    @Autowired
    private BackendRegistry backends;

    @DynamicPropertySource
    static void chroma(DynamicPropertyRegistry registry) throws IOException {
        chroma = ChromaServer.start();
        proxy = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        proxy.setExecutor(Executors.newFixedThreadPool(4));
        proxy.createContext("/", ChromaFenceIT::forward);
        proxy.start();
        registry.add("vectorsync.backends.chroma.chroma.url", () -> "http://127.0.0.1:" + proxy.getAddress().getPort());
    }

    private static void forward(HttpExchange ex) throws IOException {
        byte[] body = ex.getRequestBody().readAllBytes();
        String path = ex.getRequestURI().getRawPath();
        if (path.endsWith("/delete") && holdNextDelete.compareAndSet(true, false)) {
            held.countDown();
            try {
                release.await(25, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(chroma.url() + ex.getRequestURI()))
                .method(ex.getRequestMethod(), body.length == 0 ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        String type = ex.getRequestHeaders().getFirst("Content-Type");
        if (type != null) {
            b.header("Content-Type", type);
        }
        try {
            HttpResponse<byte[]> r = client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            r.headers().firstValue("Content-Type").ifPresent(t -> ex.getResponseHeaders().add("Content-Type", t));
            ex.sendResponseHeaders(r.statusCode(), r.body().length == 0 ? -1 : r.body().length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(r.body());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            ex.close();
        }
    }

    @AfterAll
    static void stop() {
        release.countDown();
        if (proxy != null) {
            proxy.stop(0);
        }
        if (chroma != null) {
            chroma.close();
        }
    }

    private StoredChunk held(String id) {
        return ((ReadBack) backends.get("chroma")).readBack(List.of(id)).get(id);
    }

    @Test
    void aFormerHoldersWriteLandingAfterTheNewHoldersIsRewrittenByTheCurrentHolder() throws Exception {
        put("f-x", chunkBody("one"));
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> held("f-x") != null && held("f-x").version() == 1);

        holdNextDelete.set(true);
        put("f-x", chunkBody("two"));
        assertThat(held.await(20, TimeUnit.SECONDS)).as("the relay's delete of x v1 reached the proxy").isTrue();

        // A newer holder takes the lease, writes x v3 under its epoch and commits its ledger.
        long epoch = jdbc.queryForObject("""
                UPDATE relay_cursor SET lease_owner = 'newer-holder', lease_epoch = lease_epoch + 1,
                       lease_expires_at = clock_timestamp() + interval '1 hour'
                 WHERE backend = 'chroma' RETURNING lease_epoch""", Long.class);
        put("f-x", chunkBody("three"));
        Float[] e = (Float[]) jdbc.queryForObject(
                "SELECT embedding::real[] FROM chunks WHERE chunk_id = 'f-x'", Array.class).getArray();
        float[] embedding = new float[e.length];
        for (int i = 0; i < e.length; i++) {
            embedding[i] = e[i];
        }
        backends.get("chroma").apply(List.of(Change.upsert(new ChunkData("f-x", "doc-1", "three", embedding,
                "{\"lang\":\"en\"}", Privacy.FULL), 3)), new LeaseFence(0, epoch));
        jdbc.update("""
                INSERT INTO delivery_ledger (backend, chunk_key, version, deleted, applied_at)
                VALUES ('chroma', 'f-x', 3, false, clock_timestamp())
                ON CONFLICT (backend, chunk_key) DO UPDATE SET version = 3""");
        assertThat(held("f-x").version()).isEqualTo(3);

        // The former holder's delete lands now: it removes v3, and its add lands v2.
        release.countDown();
        await().atMost(Duration.ofSeconds(30)).until(() -> count(
                "SELECT count(*) FROM suspect_writes WHERE backend = 'chroma' AND partition = 0 AND chunk_key = 'f-x'")
                == 1);
        assertThat(held("f-x").version()).as("the stale write landed over the newer one").isEqualTo(2);

        // The newer holder goes away; the relay takes the lease again and, as current holder, rewrites x.
        jdbc.update("UPDATE relay_cursor SET lease_expires_at = clock_timestamp() - interval '1 second'"
                + " WHERE backend = 'chroma'");
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> held("f-x").version() == 3);
        assertThat(held("f-x").data().content()).isEqualTo("three");
        await().atMost(Duration.ofSeconds(10)).until(() -> count(
                "SELECT count(*) FROM suspect_writes WHERE backend = 'chroma'") == 0);
    }
}
