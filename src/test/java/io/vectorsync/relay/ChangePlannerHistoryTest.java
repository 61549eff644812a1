package io.vectorsync.relay;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.backend.FieldAllowlist;
import io.vectorsync.domain.Change;
import io.vectorsync.domain.Link;
import io.vectorsync.domain.OutboxEvent;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * For a backend that takes links, each planned change carries its event's batch position and the older
 * changes of its key (ADR-018); other backends get the collapsed change alone.
 */
class ChangePlannerHistoryTest {

    private final ChangePlanner planner = new ChangePlanner(new ObjectMapper());
    private long id;

    private OutboxEvent event(String type, String chunk, long version, String payload) {
        id++;
        return new OutboxEvent(id, "100", "E" + id, type, chunk, version, payload, Instant.EPOCH, 0, false);
    }

    private Batch batch(List<OutboxEvent> events) {
        return new Batch("b", null, null, events, List.of(), Map.of(), Map.of(), false);
    }

    private static final String A1 = "{\"content\":\"one\",\"embedding\":[1,2],\"metadata\":{\"k\":1}}";
    private static final String A3 = "{\"content\":\"three\",\"embedding\":[3,4],\"metadata\":{\"k\":3}}";

    @Test
    void aLinkBackendsChangesCarryTheirBatchPositionAndTheOlderChangesOfTheirKey() {
        String ab = Link.key("a", "CITES", "b");
        List<OutboxEvent> events = List.of(
                event("UPSERT", "a", 1, A1),
                event("LINK", ab, 1, "{\"from\":\"a\",\"type\":\"CITES\",\"to\":\"b\",\"op\":\"LINK\"}"),
                event("DELETE", "a", 2, "{}"),
                event("UPSERT", "a", 3, A3));
        var plan = planner.plan(batch(events), true);

        Change a = plan.get("a").change;
        assertThat(a.version()).isEqualTo(3);
        assertThat(a.seq()).isEqualTo(3);
        assertThat(a.earlier()).extracting(Change::op, Change::version, Change::seq)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(Change.Op.UPSERT, 1L, 0L),
                        org.assertj.core.groups.Tuple.tuple(Change.Op.DELETE, 2L, 2L));
        assertThat(plan.get(ab).change.seq()).isEqualTo(1);
        assertThat(plan.get(ab).change.earlier()).isEmpty();
        assertThat(a).as("the history is not part of the change's identity")
                .isEqualTo(planner.plan(batch(events), false).get("a").change);

        assertThat(planner.plan(batch(events), false).get("a").change.earlier()).as("other backends").isEmpty();
        assertThat(planner.plan(batch(events), false).get("a").change.seq()).isEqualTo(-1);
    }

    @Test
    void aFieldAllowlistRestrictsTheOlderChangesTooAndKeepsThePositions() {
        var plan = planner.plan(batch(List.of(event("UPSERT", "a", 1, A1), event("DELETE", "a", 2, "{}"),
                event("UPSERT", "a", 3, A3))), true);
        Change restricted = FieldAllowlist.of(List.of("embedding"), "vectorsync.backends.g.fields")
                .restrict(plan.get("a").change);
        assertThat(restricted.seq()).isEqualTo(2);
        assertThat(restricted.data().content()).isNull();
        assertThat(restricted.earlier()).hasSize(2);
        assertThat(restricted.earlier().get(0).data().content()).as("an older upsert's content").isNull();
        assertThat(restricted.earlier().get(0).data().embedding()).containsExactly(1f, 2f);
        assertThat(restricted.earlier().get(1).op()).isEqualTo(Change.Op.DELETE);
    }
}
