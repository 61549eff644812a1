package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.TcpProxy;
import io.vectorsync.support.TestDatabases;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A backend that could not be reached is probed during its backoff and resumes as soon as it answers:
 * here the backoff is ten minutes, so the backlog can only drain within the test because the probe
 * ended the backoff when the backend came back.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "vectorsync.relay.backoff-base=10m",
        "vectorsync.relay.backoff-max=10m",
        "vectorsync.relay.health-probe-interval=500ms"})
class HealthProbeIT extends AbstractIT {

    private static final TcpProxy PROXY = TcpProxy.toTestPostgres();

    @DynamicPropertySource
    static void backendThroughTheProxy(DynamicPropertyRegistry registry) {
        registry.add("vectorsync.backends.replica.postgres.jdbc-url",
                () -> "jdbc:postgresql://127.0.0.1:" + PROXY.port() + "/${vectorsync.test.database}");
        registry.add("vectorsync.backends.replica.postgres.username", () -> TestDatabases.USER);
        registry.add("vectorsync.backends.replica.connect-timeout", () -> "250ms");
    }

    @AfterAll
    static void stopProxy() {
        PROXY.close();
    }

    @Test
    void anUnreachableBackendIsProbedDuringItsBackoffAndDrainsAsSoonAsItAnswers() {
        put("probe-0", chunkBody("before"));
        awaitReplicaInStep(Duration.ofSeconds(10));

        PROXY.stop();
        for (int i = 1; i <= 20; i++) {
            put("probe-" + i, chunkBody("during " + i));
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> count(
                "SELECT count(*) FROM relay_cursor WHERE backend = 'replica' AND consecutive_failures > 0"
                        + " AND paused_until > clock_timestamp() + interval '5 minutes'") == 1);
        assertThat(count("SELECT count(*) FROM replica_chunks WHERE chunk_id <> 'probe-0'")).isZero();

        PROXY.start();
        awaitReplicaInStep(Duration.ofSeconds(30));
        assertThat(count("SELECT count(*) FROM relay_cursor WHERE backend = 'replica' AND paused_until IS NULL"
                + " AND consecutive_failures = 0")).isOne();
        assertThat(count("SELECT count(*) FROM parked") + count("SELECT count(*) FROM dead_letter")).isZero();
    }
}
