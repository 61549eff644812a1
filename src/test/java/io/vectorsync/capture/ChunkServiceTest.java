package io.vectorsync.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vectorsync.domain.Privacy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The API's capture path over a {@link ChunkStore} other than PostgreSQL (as the offline mode's will be):
 * the relays are told only after a write committed, a refused write tells them nothing, and a read asks
 * the delivery status of the version the store holds. And capture stays free of backend and relay classes: it imports the domain and configuration only.
 */
class ChunkServiceTest {

    /** A store in memory: what the service asked of it, and one chunk to read. */
    private static final class MemoryStore implements ChunkStore {
        final List<String> calls = new ArrayList<>();
        final Map<String, StoredChunk> chunks = new LinkedHashMap<>();

        @Override
        public Written upsert(ChunkInput chunk) {
            calls.add("upsert " + chunk.chunkId());
            if (chunk.expectedVersion() != null) {
                throw new CaptureException(409, "VSYNC-VERSION-CONFLICT", "version", "the chunk's current version 0",
                        "The chunk has changed.");
            }
            return new Written(chunk.chunkId(), 1, true);
        }

        @Override
        public List<Written> upsertAll(List<ChunkInput> all) {
            calls.add("upsertAll " + all.size());
            return all.stream().map(c -> new Written(c.chunkId(), 1, true)).toList();
        }

        @Override
        public Written delete(String chunkId, Long expectedVersion) {
            calls.add("delete " + chunkId);
            return new Written(chunkId, 2, false);
        }

        @Override
        public Optional<StoredChunk> read(String chunkId) {
            return Optional.ofNullable(chunks.get(chunkId));
        }
    }

    private static ChunkInput chunk(String id, Long expected) {
        return new ChunkInput(id, "doc", "text", new float[] {0.5f}, "{}", Privacy.FULL, expected, false);
    }

    @Test
    void theRelaysAreToldOnlyAfterAWriteCommitted() {
        MemoryStore store = new MemoryStore();
        List<String> told = new ArrayList<>();
        ChunkService service = new ChunkService(store, (id, v) -> Map.of(),
                () -> told.add("after " + store.calls.get(store.calls.size() - 1)));

        assertThat(service.upsert(chunk("a", null))).isEqualTo(new Written("a", 1, true));
        assertThat(service.upsertAll(List.of(chunk("b", null), chunk("c", null)))).hasSize(2);
        assertThat(service.delete("a", null).version()).isEqualTo(2);
        assertThat(told).containsExactly("after upsert a", "after upsertAll 2", "after delete a");

        assertThatThrownBy(() -> service.upsert(chunk("d", 3L))).isInstanceOf(CaptureException.class);
        assertThat(told).as("a refused write tells nobody").hasSize(3);
    }

    @Test
    void aReadAsksTheDeliveryStatusOfTheStoredVersion() {
        MemoryStore store = new MemoryStore();
        store.chunks.put("a", new StoredChunk("a", 7, "doc", "text", new float[] {0.5f}, "{}", "FULL", "now"));
        List<String> asked = new ArrayList<>();
        ChunkService service = new ChunkService(store, (id, version) -> {
            asked.add(id + "@" + version);
            return Map.of("replica", DeliveryStatus.State.SYNCED);
        }, () -> { });

        ChunkService.Read read = service.read("a").orElseThrow();
        assertThat(read.chunk().version()).isEqualTo(7);
        assertThat(read.syncStatus()).containsExactly(Map.entry("replica", DeliveryStatus.State.SYNCED));
        assertThat(service.read("absent")).isEmpty();
        assertThat(asked).containsExactly("a@7");
    }

    @Test
    void captureImportsOnlyTheDomainAndConfiguration() throws IOException {
        List<String> imports = new ArrayList<>();
        try (Stream<Path> files = Files.list(Path.of("src/main/java/io/vectorsync/capture"))) {
            for (Path f : files.toList()) {
                Files.readAllLines(f).stream().filter(l -> l.startsWith("import io.vectorsync."))
                        .forEach(l -> imports.add(f.getFileName() + ": " + l));
            }
        }
        assertThat(imports).isNotEmpty().allSatisfy(i -> assertThat(i)
                .matches(".*import io\\.vectorsync\\.(config|domain)\\.[A-Za-z]+;"));
    }
}
