package io.vectorsync.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vectorsync.backend.PermanentBackendException;
import io.vectorsync.backend.TransientBackendException;
import io.vectorsync.domain.Change;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** How a batch is split to isolate the changes a backend refuses, and when nothing is charged. */
class RelayDelivererWriteTest {

    private final RelayDeliverer deliverer =
            new RelayDeliverer(null, null, null, null, null, null, null, null, null, List.of(), null, null, null);

    private static List<Change> changes(int n) {
        return IntStream.range(0, n).mapToObj(i -> Change.delete("c" + i, 1)).toList();
    }

    /** A backend that refuses (permanently or transiently) any batch containing one of the bad keys. */
    private static final class Fake implements Consumer<List<Change>> {
        final Set<String> permanent;
        final Set<String> transientKeys;
        boolean down;
        int calls;
        final List<String> stored = new ArrayList<>();

        Fake(Set<String> permanent, Set<String> transientKeys) {
            this.permanent = permanent;
            this.transientKeys = transientKeys;
        }

        @Override
        public void accept(List<Change> list) {
            calls++;
            if (down) {
                throw new TransientBackendException("down", null);
            }
            for (Change c : list) {
                if (permanent.contains(c.key())) {
                    throw new PermanentBackendException("refused", null);
                }
                if (transientKeys.contains(c.key())) {
                    throw new TransientBackendException("503 for this one", null);
                }
            }
            list.forEach(c -> stored.add(c.key()));
        }
    }

    @Test
    void permanentFailureIsIsolatedAndTheOthersAreApplied() {
        Fake backend = new Fake(Set.of("c13", "c40"), Set.of());
        RelayDeliverer.Outcome o = deliverer.write(changes(50), false, backend);
        assertThat(o.failed.keySet()).containsExactlyInAnyOrder("c13", "c40");
        assertThat(o.applied).hasSize(48);
        assertThat(backend.stored).hasSize(48).doesNotContain("c13", "c40");
    }

    @Test
    void transientFailureOfTheWholeBatchChargesNothing() {
        Fake backend = new Fake(Set.of(), Set.of());
        backend.down = true;
        assertThatThrownBy(() -> deliverer.write(changes(50), false, backend))
                .isInstanceOf(TransientBackendException.class);
        assertThat(backend.calls).isEqualTo(1);
        assertThatThrownBy(() -> deliverer.write(changes(50), true, backend))
                .isInstanceOf(TransientBackendException.class);
        assertThat(backend.calls).as("a down backend costs three calls when isolating").isEqualTo(4);
    }

    @Test
    void whenIsolatingAChangeThatKeepsFailingWhileOthersSucceedIsCharged() {
        Fake backend = new Fake(Set.of(), Set.of("c7"));
        assertThatThrownBy(() -> deliverer.write(changes(50), false, backend))
                .isInstanceOf(TransientBackendException.class);
        RelayDeliverer.Outcome o = deliverer.write(changes(50), true, backend);
        assertThat(o.failed.keySet()).containsExactly("c7");
        assertThat(o.failed.get("c7")).isInstanceOf(TransientBackendException.class);
        assertThat(o.applied).hasSize(49);
        assertThat(backend.calls).isLessThanOrEqualTo(1 + 1 + 2 * 7);
    }

    @Test
    void anUnreachableBackendIsNeverSplitEvenWhenIsolating() {
        List<Integer> calls = new ArrayList<>();
        assertThatThrownBy(() -> deliverer.write(changes(50), true, l -> {
            calls.add(l.size());
            throw new TransientBackendException("connection refused", null, null, true);
        })).isInstanceOf(TransientBackendException.class);
        assertThat(calls).containsExactly(50);
    }

    @Test
    void knownFailedIndexIsolatesWithoutSplitting() {
        List<Change> list = changes(10);
        List<Integer> calls = new ArrayList<>();
        RelayDeliverer.Outcome o = deliverer.write(list, false, l -> {
            calls.add(l.size());
            if (l.contains(list.get(4))) {
                throw new PermanentBackendException("bad item", null, l.indexOf(list.get(4)));
            }
        });
        assertThat(o.failed.keySet()).containsExactly("c4");
        assertThat(calls).containsExactly(10, 9);
    }

    @Test
    void changesWithBatchPositionsAreSplitAtAPointOfTheEventTimelineWithAStraddlingKeyInBothParts() {
        // a: upserts at positions 0 and 3 (versions 1, 2); link at 1; b at 2
        Change a = Change.delete("a", 2).withHistory(3, List.of(Change.delete("a", 1).withHistory(0, List.of())));
        Change link = Change.delete("link", 1).withHistory(1, List.of());
        Change b = Change.delete("b", 1).withHistory(2, List.of());

        List<List<Change>> parts = RelayDeliverer.halves(List.of(a, link, b));

        assertThat(parts.get(0)).extracting(c -> c.key() + "@" + c.seq() + " v" + c.version())
                .containsExactly("a@0 v1", "link@1 v1");
        assertThat(parts.get(1)).extracting(c -> c.key() + "@" + c.seq() + " v" + c.version())
                .containsExactly("a@3 v2", "b@2 v1");
        assertThat(parts.get(1).get(0).earlier()).as("the later part of a carries none of its earlier events").isEmpty();
        assertThat(RelayDeliverer.halves(changes(5))).as("without positions: the list's middle")
                .extracting(List::size).containsExactly(2, 3);
    }

    @Test
    void aFailingChangeThatCarriesOlderEventsOfItsKeyIsSplitSoOnlyItsFailingEventIsParked() {
        // a: upsert v1 at 0, delete v2 at 2, upsert v3 at 3 (the backend times out on v3); a link at 1.
        Change a = new Change("a", Change.Op.UPSERT, 3, null).withHistory(3, List.of(
                new Change("a", Change.Op.UPSERT, 1, null).withHistory(0, List.of()),
                Change.delete("a", 2).withHistory(2, List.of())));
        Change link = Change.delete("link", 1).withHistory(1, List.of());
        List<String> written = new ArrayList<>();

        RelayDeliverer.Outcome o = deliverer.write(List.of(a, link), true, list -> {
            if (list.stream().anyMatch(c -> c.key().equals("a") && (c.version() == 3
                    || c.earlier().stream().anyMatch(e -> e.version() == 3)))) {
                throw new TransientBackendException("times out on a v3", null);
            }
            list.forEach(c -> written.add(c.key() + " v" + c.version()));
        });

        assertThat(written).as("a's delete is applied in its order; only v3 is left").contains("a v2", "link v1");
        assertThat(o.applied).extracting(c -> c.key() + " v" + c.version()).containsExactlyInAnyOrder("a v2", "link v1");
        assertThat(o.failed).containsOnlyKeys("a");
    }
}
