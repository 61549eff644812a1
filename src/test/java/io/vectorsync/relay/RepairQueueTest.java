package io.vectorsync.relay;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.domain.Link;
import org.junit.jupiter.api.Test;

/** The UNLINK a repair sends for an edge the primary doesn't hold live is read from its edge key. */
class RepairQueueTest {

    private final ObjectMapper json = new ObjectMapper();
    private final RepairQueue queue = new RepairQueue(null, json, new RelayWakeup());

    private JsonNode unlink(String key) throws Exception {
        return json.readTree(queue.unlinkPayload(key));
    }

    @Test
    void anEdgeKeyGivesBackItsEndpointsAndType() throws Exception {
        for (String from : new String[] {"a", "a|b:c", "x\uD83D\uDE00y", "|"}) {
            String key = Link.key(from, "MENTIONS", "t|o");
            JsonNode n = unlink(key);
            assertThat(n.path("op").asText()).isEqualTo("UNLINK");
            assertThat(new Link(n.path("from").asText(), n.path("type").asText(), n.path("to").asText(), "{}").key())
                    .as(key).isEqualTo(key);
            assertThat(n.path("from").asText()).isEqualTo(from);
        }
    }

    @Test
    void anUnreadableKeyGivesAnEmptyPayloadThePlannerRefuses() throws Exception {
        for (String key : new String[] {"link:", "link:x:a|T|b", "link:9:a|T|b", "link:1:aT"}) {
            assertThat(unlink(key).size()).as(key).isZero();
        }
    }
}
