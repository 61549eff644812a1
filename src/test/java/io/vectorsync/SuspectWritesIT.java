package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;

import io.vectorsync.backend.LeaseFence;
import io.vectorsync.domain.Change;
import io.vectorsync.relay.SuspectWrites;
import io.vectorsync.support.AbstractIT;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Suspect keys (ADR 017) are cleared only when the current holder rewrote them: a key it read but could
 * not rewrite (refused, parked) stays suspect for its retry, and a key a former holder records again after
 * the read stays too.
 */
class SuspectWritesIT extends AbstractIT {

    private static final String BACKEND = "suspects-of-a-test";

    @Autowired
    private SuspectWrites suspects;

    @Autowired
    private org.springframework.transaction.support.TransactionTemplate tx;

    private List<String> left() {
        return jdbc.queryForList("SELECT chunk_key FROM suspect_writes WHERE backend = ? ORDER BY chunk_key",
                String.class, BACKEND);
    }

    @Test
    void onlyTheRewrittenKeysAsTheyWereReadAreCleared() {
        suspects.record(BACKEND, new LeaseFence(0, 3), List.of(Change.delete("a", 1), Change.delete("b", 1),
                Change.delete("c", 1)));
        SuspectWrites.Suspects read = suspects.among(BACKEND, 0, List.of("a", "b", "c", "d"));
        assertThat(read.keys()).containsExactlyInAnyOrder("a", "b", "c");

        // A former holder records c again after the read (its write landed later still).
        suspects.record(BACKEND, new LeaseFence(0, 2), List.of(Change.delete("c", 1)));
        // The current holder rewrote a and c; b was refused and parked.
        tx.executeWithoutResult(s -> suspects.clear(BACKEND, 0, read, Set.of("a", "c")));

        assertThat(left()).as("b was not rewritten; c was recorded again after the read").containsExactly("b", "c");
    }

    @Test
    void aSuspectKeyOfTheApplicationIsAnnouncedWithItsStatesPayload() {
        put("sw-api", chunkBody("api"));
        String payload = "{\"content\": \"app\", \"embedding\": [" + "0.5, ".repeat(383) + "0.5]}";
        jdbc.queryForObject("SELECT vectorsync.enqueue('UPSERT', 'sw-app', 4, ?::jsonb)", String.class, payload);
        jdbc.queryForObject("SELECT vectorsync.enqueue('DELETE', 'sw-gone', 2)", String.class);
        long before = count("SELECT count(*) FROM outbox");

        suspects.record(BACKEND, new LeaseFence(0, 5), List.of(Change.delete("sw-api", 1), Change.delete("sw-app", 4),
                Change.delete("sw-gone", 2)));

        assertThat(count("SELECT count(*) FROM outbox")).isEqualTo(before + 3);
        assertThat(jdbc.queryForList("SELECT type || ':' || version || ':' || (payload IS NOT NULL)"
                + " FROM outbox WHERE chunk_id = ? ORDER BY id DESC LIMIT 1", String.class, "sw-app"))
                .as("the current holder rewrites it from the state, not as a delete").containsExactly("UPSERT:4:true");
        assertThat(jdbc.queryForList("SELECT type || ':' || version FROM outbox WHERE chunk_id = 'sw-gone'"
                + " ORDER BY id DESC LIMIT 1", String.class)).containsExactly("DELETE:2");
        assertThat(jdbc.queryForList("SELECT type || ':' || (payload IS NULL) FROM outbox WHERE chunk_id = 'sw-api'"
                + " ORDER BY id DESC LIMIT 1", String.class)).containsExactly("UPSERT:true");
    }
}
