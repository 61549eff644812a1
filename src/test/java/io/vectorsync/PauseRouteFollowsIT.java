package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vectorsync.support.AbstractIT;
import java.time.Duration;
import org.apache.camel.CamelContext;
import org.apache.camel.ServiceStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;

/**
 * A pause or resume through the admin API moves this instance's relay route at once, not at the next
 * reconciliation: with the interval set to an hour here, only that path can move it. Before, a resumed
 * backend sat behind its suspended route for up to {@code pause-sync-interval} (2 s) and relayed nothing.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "vectorsync.relay.pause-sync-interval=1h"})
class PauseRouteFollowsIT extends AbstractIT {

    @Autowired
    CamelContext camel;

    private ServiceStatus route() {
        return camel.getRouteController().getRouteStatus("relay-replica");
    }

    private long inReplica(String chunkId) {
        return count("SELECT count(*) FROM replica_chunks WHERE chunk_id = ?", chunkId);
    }

    @AfterEach
    void resume() {
        adminPost("/admin/v1/resume");
        await().atMost(Duration.ofSeconds(10)).until(() -> route() == ServiceStatus.Started);
    }

    @Test
    void theRouteFollowsAPauseAndAResumeMadeThroughTheApiAtOnce() {
        assertThat(route()).isEqualTo(ServiceStatus.Started);

        assertThat(adminPost("/admin/v1/backends/replica/pause").getStatusCode().value()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> route() == ServiceStatus.Suspended);
        assertThat(put("follows-1", chunkBody("waits")).getStatusCode().value()).isEqualTo(201);

        assertThat(adminPost("/admin/v1/backends/replica/resume").getStatusCode().value()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> route() == ServiceStatus.Started);
        await().atMost(Duration.ofSeconds(10)).until(() -> inReplica("follows-1") == 1);

        // All backends at once, the same way.
        assertThat(adminPost("/admin/v1/pause").getStatusCode().value()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> route() == ServiceStatus.Suspended);
        assertThat(adminPost("/admin/v1/resume").getStatusCode().value()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> route() == ServiceStatus.Started);
    }

    @Test
    void aPauseWrittenToTheTableDirectlyIsStillHonouredByThePollerWhileTheRouteRuns() {
        // Another instance's pause (or a direct write) reaches this route only at the next reconciliation;
        // until then the poller reads the column and relays nothing.
        jdbc.update("UPDATE relay_cursor SET paused = true WHERE backend = 'replica'");
        assertThat(put("follows-2", chunkBody("waits")).getStatusCode().value()).isEqualTo(201);
        await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(2)).until(() -> inReplica("follows-2") == 0);
        assertThat(route()).isEqualTo(ServiceStatus.Started);
        jdbc.update("UPDATE relay_cursor SET paused = false WHERE backend = 'replica'");
        await().atMost(Duration.ofSeconds(10)).until(() -> inReplica("follows-2") == 1);
    }
}
