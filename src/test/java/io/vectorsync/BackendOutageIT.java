package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.vectorsync.relay.RelayListener;
import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.TcpProxy;
import io.vectorsync.support.TestDatabases;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Outages drain by themselves (docs/design.md invariant 6). The backend is a PostgreSQL database reached
 * through a TCP proxy (the test's own database, so the replica can be compared with the primary); the
 * proxy going away refuses new connections and cuts the open ones. Meanwhile writes are accepted, the
 * backend is paused with backoff kept in relay_cursor, no event is parked or dead-lettered and the
 * cursor waits; when the proxy is back the backlog drains without anyone stepping in.
 */
class BackendOutageIT extends AbstractIT {

    private static final TcpProxy PROXY = TcpProxy.toTestPostgres();
    /** What each transient failure of the backend was, through the relay's own listener hook. */
    private static final List<Throwable> FAILURES = new CopyOnWriteArrayList<>();

    @TestConfiguration
    static class RecordFailures {
        @Bean
        RelayListener failuresOfTheReplica() {
            return new RelayListener() {
                @Override
                public void backendFailed(String backend, int consecutiveFailures, Throwable cause) {
                    if (backend.equals("replica")) {
                        FAILURES.add(cause);
                    }
                }
            };
        }
    }

    private static boolean refusedByOpenBreaker(Throwable e) {
        return e instanceof CallNotPermittedException;
    }

    @DynamicPropertySource
    static void backendThroughTheProxy(DynamicPropertyRegistry registry) {
        registry.add("vectorsync.backends.replica.postgres.jdbc-url",
                () -> "jdbc:postgresql://127.0.0.1:" + PROXY.port() + "/${vectorsync.test.database}");
        registry.add("vectorsync.backends.replica.postgres.username", () -> TestDatabases.USER);
        // Short, so that a trial call during the outage (up to 64 calls when isolating) ends soon.
        registry.add("vectorsync.backends.replica.connect-timeout", () -> "250ms");
        registry.add("vectorsync.backends.replica.read-timeout", () -> "5s");
    }

    /** Fails the test at once if anything was delivered, parked or dead-lettered, or the cursor moved. */
    private boolean stillWaiting(long cursorVersion) {
        assertThat(count("SELECT count(*) FROM parked")).as("parked").isZero();
        assertThat(count("SELECT count(*) FROM dead_letter")).as("dead letters").isZero();
        assertThat(count("SELECT cursor_version FROM relay_cursor WHERE backend = 'replica'")).as("cursor version")
                .isEqualTo(cursorVersion);
        assertThat(count("SELECT count(*) FROM replica_chunks WHERE chunk_id LIKE 'down-%'")).as("delivered").isZero();
        return true;
    }

    @AfterAll
    static void stopProxy() {
        PROXY.close();
    }

    @Test
    void whileTheBackendIsUnreachableWritesAreAcceptedNothingIsParkedAndTheBacklogDrainsWhenItReturns() {
        for (int i = 0; i < 10; i++) {
            assertThat(put("pre-" + i, chunkBody("before the outage " + i)).getStatusCode().value()).isEqualTo(201);
        }
        awaitReplicaInStep(Duration.ofSeconds(10));
        assertThat(PROXY.acceptedConnections()).as("the backend is reached through the proxy").isPositive();

        PROXY.stop();
        long outageStarted = System.nanoTime();
        // Writes keep being accepted: the primary is up, only the backend is gone.
        for (int i = 0; i < 40; i++) {
            assertThat(put("down-" + i, chunkBody("during the outage " + i)).getStatusCode().value()).isEqualTo(201);
        }
        assertThat(put("pre-1", chunkBody("updated during the outage")).getStatusCode().value()).isEqualTo(200);
        assertThat(delete("pre-2").getStatusCode().value()).isEqualTo(200);

        // The backend is paused with backoff, kept in data; the cursor waits.
        await().atMost(Duration.ofSeconds(15)).until(() -> count(
                "SELECT consecutive_failures FROM relay_cursor WHERE backend = 'replica'") >= 3);
        long cursorVersion = count("SELECT cursor_version FROM relay_cursor WHERE backend = 'replica'");
        // Down long enough for the circuit breaker to open and then fail a trial call (half-open), which
        // is made with isolation on (consecutive failures >= isolate-after-failures): all the while
        // nothing is delivered, parked or dead-lettered and the cursor does not move.
        await().atMost(Duration.ofSeconds(15)).until(() -> stillWaiting(cursorVersion)
                && FAILURES.stream().anyMatch(BackendOutageIT::refusedByOpenBreaker));
        // An open circuit keeps the error that opened it visible, not "circuit breaker open".
        assertThat(jdbc.queryForObject("SELECT last_error FROM relay_cursor WHERE backend = 'replica'", String.class))
                .isNotBlank().isNotEqualTo("circuit breaker open");
        int failuresWhenOpen = FAILURES.size();
        // A trial call after the open state (half-open) reaches the backend and fails: a failure that is not
        // the breaker's refusal, after the breaker refused calls.
        await().atMost(Duration.ofSeconds(60)).until(() -> stillWaiting(cursorVersion)
                && FAILURES.subList(failuresWhenOpen, FAILURES.size()).stream().anyMatch(e -> !refusedByOpenBreaker(e)));
        Map<String, Object> paused = jdbc.queryForMap("""
                SELECT consecutive_failures, paused_until, last_error, last_error_at, paused,
                       paused_until > last_error_at AS backs_off
                  FROM relay_cursor WHERE backend = 'replica'
                """);
        System.out.printf("BackendOutageIT: after %d s down: %s%n", (System.nanoTime() - outageStarted) / 1_000_000_000,
                paused);
        assertThat((Integer) paused.get("consecutive_failures")).isGreaterThanOrEqualTo(3);
        assertThat(paused.get("paused_until")).isInstanceOf(Timestamp.class);
        assertThat(paused.get("backs_off")).isEqualTo(true);
        assertThat(paused.get("paused")).as("paused by an operator").isEqualTo(false);
        assertThat((String) paused.get("last_error")).isNotBlank().doesNotContain("during the outage");
        assertThat(count("SELECT count(*) FROM replica_chunks WHERE chunk_id = 'pre-2'")).isOne();

        // The backend returns: the backlog drains by itself.
        PROXY.start();
        long back = System.nanoTime();
        awaitReplicaInStep(Duration.ofSeconds(30));
        System.out.printf("BackendOutageIT: in step %d ms after the backend returned%n",
                (System.nanoTime() - back) / 1_000_000);
        assertThat(count("SELECT count(*) FROM replica_chunks WHERE chunk_id LIKE 'down-%'")).isEqualTo(40);
        assertThat(count("SELECT count(*) FROM replica_chunks WHERE chunk_id = 'pre-2'")).isZero();
        assertThat(count("SELECT count(*) FROM parked")).isZero();
        assertThat(count("SELECT count(*) FROM dead_letter")).isZero();
        // The backend's own transaction commits just before the one that moves the cursor and clears the pause.
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(jdbc.queryForMap(
                "SELECT consecutive_failures, paused_until FROM relay_cursor WHERE backend = 'replica'"))
                .containsEntry("consecutive_failures", 0).containsEntry("paused_until", null));

        // And it keeps flowing.
        assertThat(put("post", chunkBody("after the outage")).getStatusCode().value()).isEqualTo(201);
        awaitReplicaInStep(Duration.ofSeconds(5));
    }
}
