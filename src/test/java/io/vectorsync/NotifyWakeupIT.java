package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vectorsync.support.AbstractIT;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * With {@code vectorsync.relay.listen-notify=true} an event enqueued by another process wakes the relay at
 * once: the poll interval here is 30 s, so arriving within a few seconds proves the NOTIFY path.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"vectorsync.relay.listen-notify=true", "vectorsync.relay.poll-interval=30s"})
class NotifyWakeupIT extends AbstractIT {

    @Autowired
    TransactionTemplate tx;

    @Test
    void anEventEnqueuedWithNotifyOnIsRelayedWithoutWaitingForThePoll() {
        // Let the relay finish its first (empty) poll and start waiting for the 30 s interval.
        await().atMost(Duration.ofSeconds(10)).until(() -> count(
                "SELECT count(*) FROM relay_cursor WHERE lease_owner IS NOT NULL") == 1);
        Instant start = Instant.now();
        String payload = write(chunkBody("hi"));
        tx.executeWithoutResult(s -> {
            jdbc.execute("SET LOCAL vectorsync.notify = 'on'");
            jdbc.queryForObject("SELECT vectorsync.enqueue('UPSERT', 'n-1', 1, ?::jsonb)", String.class, payload);
        });
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                .until(() -> count("SELECT count(*) FROM replica_chunks WHERE chunk_id = 'n-1'") == 1);
        assertThat(Duration.between(start, Instant.now())).isLessThan(Duration.ofSeconds(10));
    }
}
