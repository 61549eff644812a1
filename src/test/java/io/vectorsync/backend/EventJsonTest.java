package io.vectorsync.backend;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.domain.Change;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The event JSON receivers get and the request signature, checked against values computed outside the
 * JVM: {@code printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac sixteen-chars-secret} and
 * {@code printf 'c1:1\nc2:3\n' | sha256sum}.
 */
class EventJsonTest {

    private final ObjectMapper json = new ObjectMapper();

    @Test
    void theSignatureIsStripesSchemeOverTheTimeAndTheBody() {
        RequestSignature s = new RequestSignature("sixteen-chars-secret");
        assertThat(s.header(1_700_000_000L, "{\"a\":1}".getBytes(StandardCharsets.UTF_8)))
                .isEqualTo("t=1700000000,v1=50f3a14a0961fa5127a9d95d6bddb30b8d4ad76b9710dd88cffd13872a72fe6b");
    }

    @Test
    void aBatchKeyIsTheDigestOfItsEventsKeysAndTheSameOnEveryRetry() {
        List<Change> batch = List.of(Change.delete("c1", 1), Change.delete("c2", 3));
        assertThat(EventJson.batchKey(batch))
                .isEqualTo("ceba87c1a05f17530ddcc830103502a41a0022fc7b665d21a28f705ccea09cc1")
                .isEqualTo(EventJson.batchKey(List.of(Change.delete("c1", 1), Change.delete("c2", 3))));
    }

    @Test
    void aBatchNamesTheBackendAndTheLeaseAndADeleteCarriesNoFields() throws Exception {
        byte[] body = new EventJson("hook", json).batch(List.of(Change.delete("c1", 4)), new LeaseFence(2, 7));
        assertThat(json.readTree(body).toString()).isEqualTo("{\"backend\":\"hook\",\"partition\":2,\"leaseEpoch\":7,"
                + "\"events\":[{\"idempotencyKey\":\"c1:4\",\"op\":\"DELETE\",\"chunkId\":\"c1\",\"version\":4}]}");
    }
}
