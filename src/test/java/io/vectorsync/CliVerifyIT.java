package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.cli.CliRunner;
import io.vectorsync.cli.CliRunner.Run;
import io.vectorsync.support.AbstractIT;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * TO BE ENABLED BY THE INTEGRATOR: the CLI's `verify` command against the verify job of the `verify`
 * branch (POST /admin/v1/backends/{b}/verify?repair=, GET /admin/v1/jobs/{id}). It fails on a branch
 * without that endpoint (the CLI exits 2 on its 404) and passes once both are merged.
 */
class CliVerifyIT extends AbstractIT {

    @LocalServerPort
    int port;

    private Run cli(String... args) {
        return CliRunner.run(Map.of("VECTORSYNC_URL", "http://127.0.0.1:" + port,
                "VECTORSYNC_ADMIN_TOKEN", ADMIN_TOKEN), args);
    }

    @Test
    void verifyFindsAMissingChunkExitsOneAndRepairBringsItBack() throws Exception {
        for (int i = 0; i < 25; i++) {
            assertThat(put("v-" + i, chunkBody("verify " + i)).getStatusCode().value()).isEqualTo(201);
        }
        awaitReplicaInStep(Duration.ofSeconds(10));

        Run clean = cli("verify", "--backend", "replica", "--json");
        assertThat(clean.code()).as(clean.toString()).isZero();
        JsonNode job = json.readTree(clean.out()).get("jobs").get(0);
        assertThat(job.get("kind").asText()).isEqualTo("verify");
        assertThat(job.get("status").asText()).isEqualTo("SUCCEEDED");
        JsonNode result = job.get("result");
        assertThat(result.get("backend").asText()).isEqualTo("replica");
        assertThat(result.get("primaryCount").asLong()).isEqualTo(25);
        assertThat(result.get("backendCount").asLong()).isEqualTo(25);
        assertThat(result.get("missing").asLong() + result.get("extra").asLong() + result.get("stale").asLong()
                + result.get("corrupt").asLong()).isZero();

        // The backend loses a chunk behind the relay's back.
        jdbc.update("DELETE FROM replica_chunks WHERE chunk_id = 'v-7'");
        Run found = cli("verify", "--backend", "replica");
        assertThat(found.code()).as(found.toString()).isEqualTo(1);
        assertThat(found.out()).contains("MISSING").contains("replica").contains("v-7");
        assertThat(count("SELECT count(*) FROM replica_chunks WHERE chunk_id = 'v-7'")).isZero(); // changed nothing

        Run repaired = cli("verify", "--backend", "replica", "--repair", "--json");
        assertThat(repaired.code()).as(repaired.toString()).isEqualTo(1); // differences were found (and repaired)
        JsonNode r = json.readTree(repaired.out()).get("jobs").get(0).get("result");
        assertThat(r.get("repair").asBoolean()).isTrue();
        assertThat(r.get("missing").asLong()).isEqualTo(1);
        assertThat(r.get("repaired").asLong()).isEqualTo(1);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> count("SELECT count(*) FROM replica_chunks WHERE chunk_id = 'v-7'") == 1);
        awaitReplicaInStep(Duration.ofSeconds(5));

        // Without --backend every backend is verified in turn; all clean now.
        Run all = cli("verify");
        assertThat(all.code()).as(all.toString()).isZero();
        assertThat(all.out()).contains("replica").contains("SUCCEEDED");
        assertThat(cli("verify", "--backend", "nope").code()).isEqualTo(2);
    }
}
