package io.vectorsync.relay;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.backend.Change;
import io.vectorsync.backend.ChunkData;
import io.vectorsync.backend.Privacy;
import io.vectorsync.relay.OutboxReader.ChunkRow;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Collapsing to the newest version per chunk, privacy, and poison payloads. */
class ChangePlannerTest {

    private final ChangePlanner planner = new ChangePlanner(new ObjectMapper());
    private long id;

    private OutboxEvent event(String type, String chunk, long version, String payload) {
        id++;
        return new OutboxEvent(id, "100", "E" + id, type, chunk, version, payload, Instant.EPOCH, 0, false);
    }

    private Batch batch(List<OutboxEvent> events, Map<String, ChunkRow> rows) {
        return new Batch("b", null, null, events, List.of(), rows, Map.of(), false);
    }

    @Test
    void upsertsAndDeletesCollapseToTheNewestVersionPerChunk() {
        var plan = planner.plan(batch(List.of(
                event("UPSERT", "a", 1, "{\"content\":\"one\",\"embedding\":[1,2]}"),
                event("DELETE", "a", 3, null),
                event("UPSERT", "a", 2, "{\"content\":\"two\"}"),
                event("UPSERT", "b", 5, "{\"content\":\"b\"}")), Map.of()));
        assertThat(plan.get("a").change).isEqualTo(Change.delete("a", 3));
        assertThat(plan.get("a").events).hasSize(3);
        assertThat(plan.get("b").change.version()).isEqualTo(5);
        assertThat(plan.get("b").change.data().content()).isEqualTo("b");
    }

    @Test
    void leanEventsReadTheCurrentRowIncludingTombstones() {
        ChunkData d = new ChunkData("a", "doc", "text", new float[] {1f}, "{}", Privacy.FULL);
        var plan = planner.plan(batch(List.of(event("UPSERT", "a", 1, null), event("UPSERT", "gone", 1, null),
                event("UPSERT", "dead", 2, null)), Map.of(
                "a", new ChunkRow(d, 4, false),
                "dead", new ChunkRow(new ChunkData("dead", null, null, null, "{}", Privacy.FULL), 3, true))));
        assertThat(plan.get("a").change).isEqualTo(Change.upsert(d, 4));
        assertThat(plan.get("dead").change).isEqualTo(Change.delete("dead", 3));
        assertThat(plan.get("gone").change).isEqualTo(Change.delete("gone", 1));
    }

    @Test
    void redactedLosesContentAndLocalOnlyBecomesADelete() {
        var plan = planner.plan(batch(List.of(
                event("UPSERT", "r", 1, "{\"content\":\"secret\",\"privacy\":\"REDACTED\"}"),
                event("UPSERT", "l", 1, "{\"content\":\"secret\",\"privacy\":\"LOCAL_ONLY\"}")), Map.of()));
        assertThat(plan.get("r").change.data().content()).isNull();
        assertThat(plan.get("r").change.data().privacy()).isEqualTo(Privacy.REDACTED);
        assertThat(plan.get("l").change).isEqualTo(Change.delete("l", 1));
    }

    @Test
    void aPoisonPayloadIsReportedAndANewerGoodVersionSupersedesIt() {
        var plan = planner.plan(batch(List.of(event("UPSERT", "p", 1, "{\"embedding\":\"oops\"}")), Map.of()));
        assertThat(plan.get("p").change).isNull();
        assertThat(plan.get("p").poison).contains("VSYNC-EVENT-PAYLOAD");
        var fixed = planner.plan(batch(List.of(event("UPSERT", "p", 1, "{\"embedding\":\"oops\"}"),
                event("UPSERT", "p", 2, "{\"content\":\"ok\"}")), Map.of()));
        assertThat(fixed.get("p").change.version()).isEqualTo(2);
        assertThat(fixed.get("p").poison).isNull();
    }

    @Test
    void forABackendThatCopiesRowsLeanEventsBecomeCopiesButPrivacyAndTombstonesStillDecide() {
        ChunkData full = new ChunkData("a", null, null, null, null, Privacy.FULL);
        ChunkData local = new ChunkData("l", null, null, null, null, Privacy.LOCAL_ONLY);
        var plan = planner.plan(new Batch("b", null, null, List.of(event("UPSERT", "a", 1, null),
                event("UPSERT", "l", 1, null), event("UPSERT", "d", 1, null),
                event("UPSERT", "p", 2, "{\"content\":\"payload\"}")), List.of(), Map.of(
                "a", new ChunkRow(full, 3, false), "l", new ChunkRow(local, 2, false),
                "d", new ChunkRow(new ChunkData("d", null, null, null, null, Privacy.FULL), 4, true)), Map.of(), true));
        assertThat(plan.get("a").change).isEqualTo(Change.copyFromPrimary("a", 3));
        assertThat(plan.get("a").change.copiesFromPrimary()).isTrue();
        assertThat(plan.get("l").change).isEqualTo(Change.delete("l", 2));
        assertThat(plan.get("d").change).isEqualTo(Change.delete("d", 4));
        assertThat(plan.get("p").change.data().content()).as("payload events carry their data").isEqualTo("payload");
        assertThat(planner.toPayload(plan.get("a").change)).isNull();
    }

    @Test
    void linkEventsAreNotChunkChanges() {
        assertThat(planner.plan(batch(List.of(event("LINK", "a->b", 1, "{}")), Map.of()))).isEmpty();
    }
}
