package io.vectorsync.relay;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.domain.Change;
import io.vectorsync.domain.ChunkData;
import io.vectorsync.domain.Link;
import io.vectorsync.domain.OutboxEvent;
import io.vectorsync.domain.Privacy;
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
    void aNewerEventThatCannotBeMaterialisedIsParkedWhateverValidVersionCameBeforeIt() {
        // In either order of the batch, the newest version decides: the valid v1 does not hide the poison v2.
        var valid = event("UPSERT", "p", 1, "{\"content\":\"ok\"}");
        var poison = event("UPSERT", "p", 2, "{\"embedding\":\"oops\"}");
        for (var events : List.of(List.of(valid, poison), List.of(poison, valid))) {
            var plan = planner.plan(batch(events, Map.of()));
            assertThat(plan.get("p").change).as("no change is sent for the older version").isNull();
            assertThat(plan.get("p").poison).contains("VSYNC-EVENT-PAYLOAD");
            assertThat(plan.get("p").newestEvent()).isSameAs(poison);
            assertThat(plan.get("p").events).hasSize(2);
        }
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

    private static String linkPayload(String from, String type, String to, String op, String properties) {
        return "{\"from\":\"" + from + "\",\"type\":\"" + type + "\",\"to\":\"" + to + "\",\"op\":\"" + op
                + "\",\"properties\":" + properties + "}";
    }

    @Test
    void forABackendThatAcceptsLinksLinkEventsCollapsePerEdgeApartFromTheirChunks() {
        String ab = Link.key("a", "CITES", "b");
        var events = List.of(
                event("UPSERT", "a", 7, "{\"content\":\"a\"}"),
                event("LINK", ab, 2, linkPayload("a", "CITES", "b", "LINK", "{\"w\":2}")),
                event("LINK", ab, 1, linkPayload("a", "CITES", "b", "LINK", "{\"w\":1}")),
                event("LINK", Link.key("a", "CITES", "c"), 3, linkPayload("a", "CITES", "c", "UNLINK", "{}")));
        var plan = planner.plan(batch(events, Map.of()), true);
        assertThat(ab).isEqualTo("link:1:a|CITES|b");
        assertThat(plan).containsOnlyKeys("a", ab, "link:1:a|CITES|c");
        assertThat(plan.get("a").change.version()).as("the chunk keeps its own version").isEqualTo(7);
        assertThat(plan.get(ab).change).isEqualTo(Change.link(new Link("a", "CITES", "b", "{\"w\":2}"), 2));
        assertThat(plan.get(ab).events).hasSize(2);
        assertThat(plan.get("link:1:a|CITES|c").change.op()).isEqualTo(Change.Op.UNLINK);
        assertThat(planner.toPayload(plan.get(ab).change)).as("a dead letter keeps the event's payload").isNull();
        // Every other backend still skips them.
        assertThat(planner.plan(batch(events, Map.of()))).containsOnlyKeys("a");
    }

    @Test
    void aLinkEventWithABadPayloadOrAKeyThatIsNotItsEdgeIsPoison() {
        var plan = planner.plan(batch(List.of(
                event("LINK", Link.key("a", "CITES", "b"), 1, linkPayload("a", "cites", "b", "LINK", "{}")),
                event("LINK", "link:1:x|CITES|y", 1, linkPayload("x", "CITES", "z", "LINK", "{}")),
                event("LINK", Link.key("p", "CITES", "q"), 1, null)), Map.of()), true);
        assertThat(plan.get(Link.key("a", "CITES", "b")).poison).contains("VSYNC-LINK-PAYLOAD");
        assertThat(plan.get("link:1:x|CITES|y").poison).contains("VSYNC-LINK-KEY");
        assertThat(plan.get(Link.key("p", "CITES", "q")).poison).contains("VSYNC-LINK-PAYLOAD");
    }

    @Test
    void edgeKeysAreUnambiguousWhateverTheIdsContain() {
        assertThat(Link.key("a|X|b", "Y", "c")).isNotEqualTo(Link.key("a", "X", "b|Y|c"));
        assertThat(Link.key("\uD83D\uDE00", "T", "b")).as("length in characters, as PostgreSQL counts")
                .isEqualTo("link:1:\uD83D\uDE00|T|b");
    }
}
