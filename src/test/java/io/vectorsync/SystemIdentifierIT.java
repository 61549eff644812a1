package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vectorsync.relay.RelayPoller;
import io.vectorsync.support.AbstractIT;
import java.time.Duration;
import org.apache.camel.CamelContext;
import org.apache.camel.ServiceStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * A cursor made on another database cluster (a restore or migration resets transaction ids below it)
 * halts that backend's relay with a clear error instead of reading the outbox with meaningless ids: the
 * halt is kept in relay_cursor (ADR 015), so the route stays up but reads and delivers nothing.
 */
@ExtendWith(OutputCaptureExtension.class)
class SystemIdentifierIT extends AbstractIT {

    @Autowired
    CamelContext camel;

    @Autowired
    RelayPoller poller;

    @Test
    void aCursorFromAnotherDatabaseSystemStopsItsRelayWithAClearError(CapturedOutput output) {
        assertThat(put("before", chunkBody("delivered before the identity changes")).getStatusCode().value())
                .isEqualTo(201);
        awaitReplicaInStep(Duration.ofSeconds(10));
        assertThat(camel.getRouteController().getRouteStatus("relay-replica")).isEqualTo(ServiceStatus.Started);
        long realId = count("SELECT system_identifier FROM pg_control_system()");
        assertThat(count("SELECT system_identifier FROM relay_cursor WHERE backend = 'replica'")).isEqualTo(realId);

        // As if this cursor had been copied from another cluster (or the database restored under it).
        jdbc.update("UPDATE relay_cursor SET system_identifier = system_identifier + 1 WHERE backend = 'replica'");
        long cursorVersion = count("SELECT cursor_version FROM relay_cursor WHERE backend = 'replica'");

        await().atMost(Duration.ofSeconds(10)).until(() -> poller.isHalted("replica"));
        assertThat(jdbc.queryForObject("SELECT halted_reason FROM relay_cursor WHERE backend = 'replica'",
                String.class)).startsWith("VSYNC-RELAY-IDENTITY");
        await().atMost(Duration.ofSeconds(5)).until(() -> output.getAll().contains("VSYNC-RELAY-IDENTITY"));
        String line = output.getAll().lines().filter(l -> l.contains("VSYNC-RELAY-IDENTITY")).findFirst().orElseThrow();
        assertThat(line).contains("ERROR")
                .contains("backend 'replica'")
                .contains(String.valueOf(realId + 1))
                .contains(String.valueOf(realId))
                .contains("halted");

        // Capture still works, but nothing more is delivered and the cursor does not move.
        assertThat(put("after", chunkBody("must not be delivered")).getStatusCode().value()).isEqualTo(201);
        assertThat(adminPost("/admin/v1/sync-now").getStatusCode().value())
                .isEqualTo(200);
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(4)).until(
                () -> count("SELECT count(*) FROM replica_chunks WHERE chunk_id = 'after'") == 0
                        && count("SELECT cursor_version FROM relay_cursor WHERE backend = 'replica'") == cursorVersion
                        && count("SELECT count(*) FROM delivery_ledger WHERE chunk_key = 'after'") == 0);
        assertThat(count("SELECT count(*) FROM replica_chunks WHERE chunk_id = 'before'")).isOne();
        assertThat(poller.isHalted("replica")).isTrue();
    }
}
